/** Right of the graph: Inspector, History (versions) and Ablate, as tabs. */
import React from 'react';
import { useActions, useAppState } from '../state/context';
import type { SideTab } from '../state/types';
import { AblatePanel } from './side/AblatePanel';
import { HistoryPanel } from './side/HistoryPanel';
import { Inspector } from './side/Inspector';

const TABS: { id: SideTab; label: string }[] = [
  { id: 'inspector', label: 'Inspector' },
  { id: 'history', label: 'History' },
  { id: 'ablate', label: 'Ablate' },
];

export function SidePane(): React.JSX.Element {
  const actions = useActions();
  const side = useAppState((s) => s.side);
  return (
    <aside className="side-pane" aria-label="Details">
      <div className="tabs" role="tablist" aria-label="Details">
        {TABS.map((t) => (
          <button key={t.id} type="button" role="tab" aria-selected={side === t.id} className={side === t.id ? 'active' : ''} onClick={() => actions.setSide(t.id)}>
            {t.label}
          </button>
        ))}
      </div>
      <div className="side-body" role="tabpanel" aria-label={TABS.find((t) => t.id === side)?.label}>
        {side === 'inspector' && <Inspector />}
        {side === 'history' && <HistoryPanel />}
        {side === 'ablate' && <AblatePanel />}
      </div>
    </aside>
  );
}
