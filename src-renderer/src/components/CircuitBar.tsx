/** Above the main area: the open circuit and version, the view tabs, undo/redo and Export. */
import React, { useEffect, useRef, useState } from 'react';
import { redoTarget } from '../state/history';
import { useActions, useAppState } from '../state/context';
import type { ViewName } from '../state/types';

const VIEWS: { id: ViewName; label: string }[] = [
  { id: 'graph', label: 'Graph' },
  { id: 'discover', label: 'Discover' },
  { id: 'evaluate', label: 'Evaluate' },
  { id: 'compare', label: 'Compare' },
  { id: 'shift', label: 'SHIFT' },
];

export function CircuitBar(): React.JSX.Element {
  const actions = useActions();
  const view = useAppState((s) => s.view);
  const circuit = useAppState((s) => s.circuit);
  const redo = useAppState((s) => s.redo);
  const editing = useAppState((s) => s.editing);
  const s = circuit?.summary;
  const p = s?.parameters as { method?: string; aggregation?: string; examples?: number } | undefined;
  return (
    <div className="circuit-bar">
      <div className="tabs" role="tablist" aria-label="Views">
        {VIEWS.map((v) => (
          <button key={v.id} type="button" role="tab" aria-selected={view === v.id} className={view === v.id ? 'active' : ''} onClick={() => actions.setView(v.id)}>
            {v.label}
          </button>
        ))}
      </div>
      {s && (
        <div className="circuit-title" data-testid="circuit-title">
          <strong title={s.name}>{s.name}</strong>
          <span className="version-tag" data-testid="version" title={`version ${s.id} in the library; ${circuit!.history.length} version(s) of this circuit`}>
            v{s.id}
            {s.versionLabel ? ` “${s.versionLabel}”` : ''}
            {circuit!.history.length > 1 ? ` · ${circuit!.history.findIndex((h) => h.id === s.id) + 1} of ${circuit!.history.length}` : ''}
          </span>
          <span className="muted">
            {(p?.method ?? '').toUpperCase()} · {p?.aggregation === 'none' ? 'per position' : 'summed'} · {p?.examples} examples
          </span>
        </div>
      )}
      {s && circuit && (
        <div className="row bar-actions">
          <button type="button" onClick={() => void actions.undo()} disabled={s.parentId === null || editing} title="Undo the last edit (Ctrl+Z)">
            Undo
          </button>
          <button type="button" onClick={() => void actions.redo()} disabled={redoTarget(s, circuit.history, redo) === null || editing} title="Redo (Ctrl+Shift+Z or Ctrl+Y)">
            Redo
          </button>
          <ExportMenu />
        </div>
      )}
    </div>
  );
}

function ExportMenu(): React.JSX.Element {
  const actions = useActions();
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent): void => {
      if (!ref.current?.contains(e.target as Node)) setOpen(false);
    };
    const esc = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') setOpen(false);
    };
    window.addEventListener('mousedown', close);
    window.addEventListener('keydown', esc);
    return () => {
      window.removeEventListener('mousedown', close);
      window.removeEventListener('keydown', esc);
    };
  }, [open]);
  const item = (label: string, run: () => void): React.JSX.Element => (
    <button
      type="button"
      role="menuitem"
      onClick={() => {
        setOpen(false);
        run();
      }}
    >
      {label}
    </button>
  );
  return (
    <div className="menu" ref={ref}>
      <button type="button" aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen(!open)}>
        Export
      </button>
      {open && (
        <div className="menu-list" role="menu" aria-label="Export">
          {item('Circuit JSON', () => void actions.exportCircuitJson())}
          {item('Annotations JSONL', () => void actions.exportAnnotations())}
          {item('Graph as SVG', actions.exportSvg)}
          {item('Graph as PNG', () => void actions.exportPng())}
        </div>
      )}
    </div>
  );
}
