/**
 * Every version of the open circuit as a tree (each edit made a new one): click to jump, undo
 * and redo walk it. Also the current version's label and its groups.
 */
import React, { useEffect, useId, useState } from 'react';
import { describeEdit, redoTarget, versionTree } from '../../state/history';
import { useActions, useAppState } from '../../state/context';
import { fmtDate } from '../../util/format';

export function HistoryPanel(): React.JSX.Element | null {
  const actions = useActions();
  const circuit = useAppState((s) => s.circuit);
  const redo = useAppState((s) => s.redo);
  const editing = useAppState((s) => s.editing);
  const labelId = useId();
  const [label, setLabel] = useState(circuit?.summary.versionLabel ?? '');
  useEffect(() => setLabel(circuit?.summary.versionLabel ?? ''), [circuit?.summary.id, circuit?.summary.versionLabel]);
  if (!circuit) return null;
  const cur = circuit.summary;
  const canRedo = redoTarget(cur, circuit.history, redo) !== null;
  return (
    <div className="history" data-testid="history">
      <div className="row">
        <button type="button" onClick={() => void actions.undo()} disabled={cur.parentId === null || editing} title="Ctrl+Z">
          Undo
        </button>
        <button type="button" onClick={() => void actions.redo()} disabled={!canRedo || editing} title="Ctrl+Shift+Z or Ctrl+Y">
          Redo
        </button>
      </div>
      <h3>Versions</h3>
      <ol className="versions" aria-label="Versions">
        {versionTree(circuit.history).map(({ summary: v, depth }) => (
          <li key={v.id} style={{ paddingLeft: depth * 12 }}>
            <button type="button" className={`version${v.id === cur.id ? ' current' : ''}`} aria-current={v.id === cur.id ? 'true' : undefined} onClick={() => void actions.jumpToVersion(v.id)}>
              <span className="v-id">v{v.id}</span>
              <span className="v-what">
                {v.versionLabel ? <strong>{v.versionLabel} · </strong> : null}
                {describeEdit(v)}
              </span>
              <span className="muted v-meta">
                {v.nodes} nodes · {v.edges ?? 0} edges · {fmtDate(v.createdAt)}
              </span>
            </button>
          </li>
        ))}
      </ol>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void actions.labelVersion(label);
        }}
      >
        <label htmlFor={labelId}>Version label</label>
        <input id={labelId} value={label} maxLength={200} placeholder={`v${cur.id}`} onChange={(e) => setLabel(e.target.value)} />
        <button type="submit" disabled={label === (cur.versionLabel ?? '')}>
          Save label
        </button>
      </form>
      {(circuit.circuit.groups?.length ?? 0) > 0 && (
        <>
          <h3>Groups</h3>
          <ul className="groups">
            {circuit.circuit.groups!.map((g) => (
              <li key={g.name}>
                <strong>{g.name}</strong> <span className="muted">({g.nodes.length} nodes)</span>{' '}
                <button type="button" className="link" onClick={() => actions.select(g.nodes, 'replace')}>
                  Select
                </button>{' '}
                <button type="button" className="link" onClick={() => actions.ungroup(g.name)} disabled={editing}>
                  Ungroup
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
