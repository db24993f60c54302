/**
 * The last row of the graph toolbar: what is selected and what to do with it (prune, keep
 * only, group, ablate, clear), or how to select. Always there, so the graph never jumps.
 */
import React, { useState } from 'react';
import { useActions, useAppState } from '../../state/context';
import { plural } from '../../util/format';

export function SelectionBar(): React.JSX.Element {
  const actions = useActions();
  const selection = useAppState((s) => s.selection);
  const editing = useAppState((s) => s.editing);
  const [grouping, setGrouping] = useState(false);
  const [name, setName] = useState('');
  const n = [...selection].filter((id) => id !== 'y').length;
  if (n === 0) {
    return (
      <div className="selection-bar empty muted" data-testid="selection-bar">
        Click a node to select it; Shift+click adds one, Shift+drag selects a box. Delete prunes the selection, F fits the graph.
      </div>
    );
  }
  return (
    <div className="selection-bar" role="toolbar" aria-label="Selection" data-testid="selection-bar">
      <strong>{plural(n, 'node')} selected</strong>
      <button type="button" onClick={actions.prune} disabled={editing} title="Remove the selected nodes: a new version (Delete)">
        Prune
      </button>
      <button type="button" onClick={actions.keepOnly} disabled={editing} title="Keep only the selected nodes: a new version">
        Keep only
      </button>
      {grouping ? (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            actions.group(name);
            setGrouping(false);
            setName('');
          }}
        >
          <input aria-label="Group name" placeholder="group name" value={name} onChange={(e) => setName(e.target.value)} autoFocus />
          <button type="submit" disabled={!name.trim() || editing}>
            Make group
          </button>
          <button type="button" onClick={() => setGrouping(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <button type="button" onClick={() => setGrouping(true)} disabled={editing}>
          Group…
        </button>
      )}
      <button type="button" onClick={() => actions.setSide('ablate')}>
        Ablate…
      </button>
      <button type="button" onClick={actions.clearSelection} title="Clear the selection (Esc)">
        Clear
      </button>
    </div>
  );
}
