/**
 * The library: circuits (with their versions), datasets, models and SAE sets, searchable by
 * name and tag; what dropped files became (or why not) is listed at the top.
 */
import React, { useEffect, useId, useMemo, useState } from 'react';
import { useActions, useAppState } from '../../state/context';
import type { CircuitSummary, LibraryList } from '../../state/types';
import { fmtDate, plural } from '../../util/format';
import { ImportNotes } from './ImportNotes';
import { HubControls } from './HubControls';

export function LibraryPanel(): React.JSX.Element {
  const actions = useActions();
  const library = useAppState((s) => s.library);
  const error = useAppState((s) => s.libraryError);
  const search = useAppState((s) => s.librarySearch);
  const searchId = useId();
  useEffect(() => {
    const t = setTimeout(() => void actions.refreshLibrary(), 200);
    return () => clearTimeout(t);
  }, [search, actions]);

  return (
    <section className="panel library" aria-label="Library" data-testid="library">
      <h2>Library</h2>
      <label htmlFor={searchId} className="visually-hidden-label">
        Search the library
      </label>
      <input id={searchId} type="search" placeholder="name or tag" value={search} onChange={(e) => actions.setLibrarySearch(e.target.value)} />
      <p className="muted drop-hint">Drop files anywhere on the window to import: cluster JSON, agreement JSONL, circuit JSON, annotation JSONL.</p>
      <HubControls />
      <ImportNotes />
      {error && <p className="error">{error}</p>}
      {!library && !error && <p className="muted">Loading…</p>}
      {library && <LibraryLists library={library} />}
    </section>
  );
}

function LibraryLists({ library }: { library: LibraryList }): React.JSX.Element {
  const actions = useActions();
  const groups = useMemo(() => {
    const m = new Map<number, CircuitSummary[]>();
    for (const c of library.circuits) {
      const l = m.get(c.rootId);
      if (l) l.push(c);
      else m.set(c.rootId, [c]);
    }
    for (const l of m.values()) l.sort((a, b) => a.id - b.id);
    return [...m.values()].sort((a, b) => b[b.length - 1].id - a[a.length - 1].id);
  }, [library.circuits]);
  const modelName = (id: number | null): string => library.models.find((m) => m.id === id)?.name ?? '—';
  return (
    <>
      <Group title="Circuits" count={groups.length} open>
        {groups.length === 0 && <li className="muted">None yet: discover one or drop a circuit file.</li>}
        {groups.map((versions) => (
          <CircuitItem key={versions[0].rootId} versions={versions} />
        ))}
      </Group>
      <Group title="Datasets" count={library.datasets.length} open>
        {library.datasets.map((d) => (
          <Item
            key={d.id}
            kind="dataset"
            id={d.id}
            name={d.name}
            tags={d.tags}
            detail={`${d.kind === 'cluster' ? 'cluster (no pairs)' : d.kind} · ${plural(d.examples, 'example')}`}
            inlineExtra
            extra={
              <button type="button" className="link" onClick={() => (actions.setDiscoverForm({ datasetId: d.id }), actions.setView('discover'))}>
                Discover on it
              </button>
            }
          />
        ))}
      </Group>
      <Group title="Models" count={library.models.length}>
        {library.models.map((m) => (
          <li key={m.id} className="lib-item">
            <span className="lib-name">{m.name}</span>
            <span className="muted">
              {m.architecture.replace(/ForCausalLM$/, '')} · {String(m.config.num_hidden_layers ?? '?')} layers · width {String(m.config.hidden_size ?? '?')}
            </span>
          </li>
        ))}
      </Group>
      <Group title="SAE sets" count={library.saeSets.length}>
        {library.saeSets.map((s) => (
          <li key={s.id} className="lib-item">
            <span className="lib-name">{s.name}</span>
            <span className="muted">
              {s.layout === 'identity' ? 'neurons (no SAEs)' : s.layout} · {s.submodules ? plural(s.submodules.length, 'submodule') : 'shapes not read yet'} · for {modelName(s.modelId)}
            </span>
          </li>
        ))}
      </Group>
    </>
  );
}

function Group({ title, count, open, children }: { title: string; count: number; open?: boolean; children: React.ReactNode }): React.JSX.Element {
  return (
    <details className="lib-group" open={open}>
      <summary>
        {title} <span className="muted">({count})</span>
      </summary>
      <ul>{children}</ul>
    </details>
  );
}

function CircuitItem({ versions }: { versions: CircuitSummary[] }): React.JSX.Element {
  const actions = useActions();
  const current = useAppState((s) => s.circuit?.summary.id ?? null);
  const root = versions[0];
  const newest = versions[versions.length - 1];
  const p = root.parameters as { method?: string; aggregation?: string; examples?: number };
  const isOpen = versions.some((v) => v.id === current);
  return (
    <Item
      kind="circuit"
      id={root.rootId}
      name={root.name}
      tags={root.tags}
      versions={versions}
      open={() => void actions.openCircuit(newest.id)}
      active={isOpen}
      detail={`${(p.method ?? '?').toUpperCase()} · ${p.aggregation === 'none' ? 'per position' : 'summed'} · ${p.examples ?? '?'} ex. · ${newest.nodes} nodes · ${newest.edges ?? 0} edges · ${fmtDate(root.createdAt)}`}
      extra={
        versions.length > 1 && (
          <span className="versions-inline" aria-label="Versions">
            {versions.map((v) => (
              <button key={v.id} type="button" className={`chip${v.id === current ? ' current' : ''}`} onClick={() => void actions.openCircuit(v.id)} title={v.versionLabel ?? `version ${v.id}`}>
                v{v.id}
              </button>
            ))}
          </span>
        )
      }
    />
  );
}

/** A library entry with Rename, Tags and Delete done in place (no prompt(): Electron has none). */
function Item(props: {
  kind: 'dataset' | 'circuit';
  id: number;
  name: string;
  tags: string[];
  detail: string;
  extra?: React.ReactNode;
  /** Show `extra` on the detail line (a short link) rather than below it. */
  inlineExtra?: boolean;
  open?: () => void;
  active?: boolean;
  versions?: CircuitSummary[];
}): React.JSX.Element {
  const actions = useActions();
  const [mode, setMode] = useState<'none' | 'menu' | 'rename' | 'tags' | 'delete'>('none');
  const [value, setValue] = useState('');
  const fieldId = useId();
  const done = (): void => setMode('none');
  return (
    <li className={`lib-item${props.active ? ' active' : ''}`}>
      <div className="lib-line">
        {props.open ? (
          <button type="button" className="lib-name link" onClick={props.open} title="Open (the newest version)">
            {props.name}
          </button>
        ) : (
          <span className="lib-name">{props.name}</span>
        )}
        <button type="button" className="link more" aria-expanded={mode !== 'none'} onClick={() => setMode(mode === 'none' ? 'menu' : 'none')}>
          Edit
        </button>
      </div>
      <span className="lib-detail">
        <span className="muted">{props.detail}</span>
        {props.inlineExtra && props.extra}
      </span>
      {props.tags.length > 0 && (
        <span className="tags">
          {props.tags.map((t) => (
            <button key={t} type="button" className="chip tag" onClick={() => actions.setLibrarySearch(t)} title={`Show items tagged ${t}`}>
              #{t}
            </button>
          ))}
        </span>
      )}
      {!props.inlineExtra && props.extra}
      {mode === 'menu' && (
        <div className="row item-menu">
          <button type="button" onClick={() => (setValue(props.name), setMode('rename'))}>
            Rename
          </button>
          <button type="button" onClick={() => (setValue(props.tags.join(', ')), setMode('tags'))}>
            Tags
          </button>
          <button type="button" onClick={() => setMode('delete')}>
            Delete
          </button>
        </div>
      )}
      {(mode === 'rename' || mode === 'tags') && (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (mode === 'rename' && value.trim()) void actions.renameItem(props.kind, props.id, value.trim());
            if (mode === 'tags') void actions.tagItem(props.kind, props.id, value.split(',').map((t) => t.trim()).filter(Boolean));
            done();
          }}
        >
          <label htmlFor={fieldId}>{mode === 'rename' ? 'New name' : 'Tags (comma-separated)'}</label>
          <input id={fieldId} value={value} onChange={(e) => setValue(e.target.value)} autoFocus />
          <button type="submit">Save</button>
          <button type="button" onClick={done}>
            Cancel
          </button>
        </form>
      )}
      {mode === 'delete' && (
        <div className="row confirm" role="alertdialog" aria-label={`Delete ${props.name}?`}>
          <span>
            Delete {props.kind === 'circuit' && props.versions ? `this circuit and its ${plural(props.versions.length, 'version')}` : 'this dataset'}?
          </span>
          <button
            type="button"
            className="danger"
            onClick={async () => {
              // Versions go newest first: a version can go only once nothing was made from it.
              const ids = props.versions ? props.versions.map((v) => v.id).sort((a, b) => b - a) : [props.id];
              for (const id of ids) await actions.deleteItem(props.kind, id);
              done();
            }}
          >
            Delete
          </button>
          <button type="button" onClick={done}>
            Keep
          </button>
        </div>
      )}
    </li>
  );
}
