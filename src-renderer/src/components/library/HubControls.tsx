/**
 * The Library's ways in besides dropping files: download a known setup from the Hugging Face
 * Hub (size shown first; nothing downloads without the click), open a folder on disk (what it
 * holds, then add it), and the disk cache with what each entry costs (docs/hub.md).
 */
import React, { memo, useEffect, useId, useState } from 'react';
import { useActions, useAppState } from '../../state/context';
import type { HubInspection } from '../../state/types';
import { fmtBytes, plural } from '../../util/format';
import { JobBar } from '../JobBar';

const SETUP = 'pythia-70m-deduped';

/** Registry sizes are rough decimal figures (a download page's units), so they show as such. */
function approx(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  return `${Math.round(bytes / 1e6)} MB`;
}

export const HubControls = memo(function HubControls(): React.JSX.Element {
  return (
    <div className="hub" data-testid="hub">
      <DownloadSetup />
      <OpenFolder />
      <DiskCache />
    </div>
  );
});

function DownloadSetup(): React.JSX.Element {
  const actions = useActions();
  const setups = useAppState((s) => s.hub.setups);
  const setupsError = useAppState((s) => s.hub.setupsError);
  const job = useAppState((s) => s.hub.fetchJob);
  const note = useAppState((s) => s.hub.fetchNote);
  const connected = useAppState((s) => s.appInfo !== null);
  useEffect(() => {
    if (connected) void actions.loadSetups();
  }, [connected, actions]);
  const setup = setups?.setups.find((s) => s.id === SETUP) ?? null;
  const sae = setup?.saeSources.find((s) => s.id === setup.defaultSaeSource) ?? null;
  const toFetch = setup ? (setup.model.cached ? 0 : setup.model.approxBytes) + (sae && !sae.cached ? sae.approxBytes : 0) : 0;
  return (
    <div className="hub-download" data-testid="hub-download">
      <div className="row">
        <button type="button" onClick={() => void actions.fetchSetup(SETUP)} disabled={!setup || job !== null}>
          Download Pythia-70M
        </button>
      </div>
      {setup && (
        <p className="muted small" data-testid="download-size">
          {toFetch > 0 ? `About ${approx(toFetch)} to download` : 'Already in the cache: no download'}: model {approx(setup.model.approxBytes)}
          {setup.model.cached ? ' (cached)' : ''}
          {sae ? `, SAEs ${approx(sae.approxBytes)}${sae.cached ? ' (cached)' : ''}` : ''}.{setups?.offline ? ' Offline mode (HF_HUB_OFFLINE): only the cache is used.' : ''}
        </p>
      )}
      {setupsError && <p className="error">{setupsError}</p>}
      {job && <JobBar job={job} label="Downloading" onCancel={actions.cancelFetch} />}
      {note && (
        <p className={note.ok ? 'ok small' : 'error small'} role={note.ok ? 'status' : 'alert'} data-testid="download-note">
          {note.text}
        </p>
      )}
    </div>
  );
}

function OpenFolder(): React.JSX.Element {
  const actions = useActions();
  const inspect = useAppState((s) => s.hub.inspect);
  const [open, setOpen] = useState(false);
  const pathId = useId();
  return (
    <div className="hub-folder">
      <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
        Open folder…
      </button>
      {open && (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void actions.inspectFolder();
          }}
        >
          {/* The served UI runs in a browser, which cannot hand out a folder's path: it is typed. */}
          <label htmlFor={pathId}>Folder path</label>
          <input id={pathId} value={inspect.path} placeholder="/path/to/model or SAE folder" onChange={(e) => actions.setInspectPath(e.target.value)} autoFocus />
          <button type="submit" disabled={!inspect.path.trim() || inspect.loading}>
            Inspect
          </button>
        </form>
      )}
      {open && inspect.loading && <p className="muted small">Reading the folder…</p>}
      {open && inspect.result && <Inspection r={inspect.result} />}
      {open && inspect.error && (
        <p className="error small" role="alert">
          {inspect.error}
        </p>
      )}
      {open && inspect.added && (
        <p className="ok small" role="status">
          {inspect.added}
        </p>
      )}
    </div>
  );
}

function Inspection({ r }: { r: HubInspection }): React.JSX.Element {
  const actions = useActions();
  const m = r.model;
  const s = r.saes;
  return (
    <div className="inspection" data-testid="inspection">
      {m && (
        <div className="found">
          <strong>Model</strong>: {m.modelType}
          {m.layers !== null ? ` · ${m.layers} layers` : ''}
          {m.width !== null ? ` · width ${m.width}` : ''}
          {m.weights ? ` · ${(m.weights.parameters / 1e6).toFixed(m.weights.parameters < 1e7 ? 2 : 1)} M parameters · ${fmtBytes(m.weights.bytesOnDisk)}` : ''}
          {m.tokenizer ? '' : ' · no tokenizer'}
          {m.problem && <span className="error"> {m.problem}</span>}
          {m.supported && (
            <button type="button" onClick={() => void actions.registerFolder('model', m.path)}>
              Add model
            </button>
          )}
        </div>
      )}
      {s && (
        <div className="found">
          <strong>SAEs</strong>: {s.layout} · {plural(s.submodules.length, 'submodule')}
          {s.submodules[0] ? ` · ${s.submodules[0].features.toLocaleString('en-US')} features each` : ''}
          {s.missing.length ? <span className="warning"> missing: {s.missing.join(', ')}</span> : ''}
          {s.problems.map((p) => (
            <span key={p} className="error">
              {' '}
              {p}
            </span>
          ))}
          {s.submodules.length > 0 && s.problems.length === 0 && (
            <button type="button" onClick={() => void actions.registerFolder('saeSet', s.path)}>
              Add SAE set
            </button>
          )}
        </div>
      )}
      {!m && !s && <p className="muted">No model or SAEs found here.</p>}
      {r.problems.map((p) => (
        <p key={p} className="error small">
          {p}
        </p>
      ))}
    </div>
  );
}

function DiskCache(): React.JSX.Element {
  const actions = useActions();
  const cache = useAppState((s) => s.hub.cache);
  const [confirm, setConfirm] = useState<string | null>(null);
  return (
    <details
      className="hub-cache"
      onToggle={(e) => {
        if ((e.currentTarget as HTMLDetailsElement).open) void actions.loadCache();
      }}
    >
      <summary>
        Disk cache {cache.listing ? <span className="muted">({fmtBytes(cache.listing.totalBytes)})</span> : null}
      </summary>
      {cache.loading && !cache.listing && <p className="muted small">Reading the cache…</p>}
      {cache.error && <p className="error small">{cache.error}</p>}
      {cache.note && (
        <p className="small" role="status">
          {cache.note}
        </p>
      )}
      {cache.listing && (
        <ul className="cache-list">
          {cache.listing.entries.length === 0 && <li className="muted">Empty.</li>}
          {cache.listing.entries.map((e) => (
            <li key={e.id}>
              <span className="lib-name" title={e.path}>
                {e.repo ?? e.id}
              </span>
              <span className="muted">
                {fmtBytes(e.bytes)} · {plural(e.files, 'file')}
                {e.incompleteBytes ? ` · ${fmtBytes(e.incompleteBytes)} unfinished` : ''}
                {e.usedBy.length ? ` · used by ${e.usedBy.map((u) => u.name).join(', ')}` : ''}
              </span>
              {confirm === e.id ? (
                <span className="row">
                  <button type="button" className="danger" onClick={() => (setConfirm(null), void actions.clearCache(e.id))}>
                    Clear {fmtBytes(e.bytes)}
                  </button>
                  <button type="button" onClick={() => setConfirm(null)}>
                    Keep
                  </button>
                </span>
              ) : (
                <button type="button" onClick={() => setConfirm(e.id)}>
                  Clear
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {cache.listing && <p className="muted small path">{cache.listing.hubCache}</p>}
    </details>
  );
}
