/** What each dropped file became, or why it was refused, with the file's name. */
import React from 'react';
import { useActions, useAppState } from '../../state/context';

export function ImportNotes(): React.JSX.Element | null {
  const actions = useActions();
  const notes = useAppState((s) => s.imports);
  if (!notes.length) return null;
  return (
    <ul className="import-notes" aria-label="Imports" data-testid="import-notes">
      {notes.map((n) => (
        <li key={n.id} className={n.ok ? 'ok' : 'error'} role={n.ok ? undefined : 'alert'}>
          <div className="row">
            <span className="note-text">
              <strong>{n.ok ? 'Imported' : 'Not imported'}</strong> {n.ok ? `${n.file} → ${n.message}` : n.message}
            </span>
            <button type="button" className="link" onClick={() => actions.dismissImport(n.id)} aria-label={`Dismiss ${n.file}`} title="Dismiss">
              ×
            </button>
          </div>
          {n.warnings?.map((w, i) => (
            <div key={i} className="muted small">
              {w}
            </div>
          ))}
          {n.datasetId !== undefined && (
            <button type="button" className="link" onClick={() => (actions.setDiscoverForm({ datasetId: n.datasetId! }), actions.setView('discover'))}>
              Discover on it
            </button>
          )}
        </li>
      ))}
    </ul>
  );
}
