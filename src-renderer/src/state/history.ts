/**
 * Undo and redo walk the stored versions of a circuit (every edit is a new version; nothing is
 * overwritten). Pure helpers, unit-tested: which version undo and redo go to, how the history
 * list is drawn, and what each edit did in words.
 */
import type { CircuitSummary } from '../../../src-main/store/records';
import type { JobView } from './types';

/** Undo goes to the parent version; null at the root. */
export function undoTarget(current: CircuitSummary): number | null {
  return current.parentId;
}

/**
 * Redo goes back to the version undo left (the redo stack), else to the newest version made
 * from this one (after a reload the stack is gone, the versions are not).
 */
export function redoTarget(current: CircuitSummary, history: readonly CircuitSummary[], redo: readonly number[]): number | null {
  const top = redo[redo.length - 1];
  if (top !== undefined && history.some((h) => h.id === top && h.parentId === current.id)) return top;
  let newest: CircuitSummary | null = null;
  for (const h of history) if (h.parentId === current.id && (!newest || h.id > newest.id)) newest = h;
  return newest?.id ?? null;
}

/** The redo stack after moving from `from` to `to`: undo pushes, redo pops, a jump clears. */
export function nextRedoStack(redo: readonly number[], from: CircuitSummary, to: number, how: 'undo' | 'redo' | 'jump'): number[] {
  if (how === 'undo') return [...redo, from.id];
  if (how === 'redo') return redo[redo.length - 1] === to ? redo.slice(0, -1) : [];
  return [];
}

export function describeEdit(s: CircuitSummary): string {
  const e = s.edit;
  if (!e) return 'discovered';
  const n = (k: number): string => `${k} node${k === 1 ? '' : 's'}`;
  switch (e.op) {
    case 'prune':
      return `pruned ${n(e.nodes.length)}`;
    case 'keepOnly':
      return `kept only ${n(e.nodes.length)}`;
    case 'group':
      return `grouped ${n(e.nodes.length)} as “${e.name}”`;
    case 'ungroup':
      return `ungrouped “${e.name}”`;
    case 'relabel':
      return `relabelled ${n(Object.keys(e.labels).length)}`;
  }
}

/** Versions in tree order (each parent followed by its children) with their depth. */
export function versionTree(history: readonly CircuitSummary[]): { summary: CircuitSummary; depth: number }[] {
  const children = new Map<number | null, CircuitSummary[]>();
  const ids = new Set(history.map((h) => h.id));
  for (const h of history) {
    const p = h.parentId !== null && ids.has(h.parentId) ? h.parentId : null;
    const l = children.get(p);
    if (l) l.push(h);
    else children.set(p, [h]);
  }
  const out: { summary: CircuitSummary; depth: number }[] = [];
  const walk = (p: number | null, depth: number): void => {
    for (const c of (children.get(p) ?? []).sort((a, b) => a.id - b.id)) {
      out.push({ summary: c, depth });
      walk(c.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

// ---- job progress ---------------------------------------------------------------------------

export function startJob(now: number): JobView {
  return { fraction: null, message: 'starting…', startedAt: now, phaseAt: now, phaseFraction: 0 };
}

/** A progress event; a fraction that goes backwards starts a new phase (loading, then batches). */
export function progressJob(j: JobView, fraction: number | null, message: string, now: number): JobView {
  if (fraction !== null && (j.fraction === null || fraction < j.fraction)) return { ...j, fraction, message, phaseAt: now, phaseFraction: fraction };
  return { ...j, fraction: fraction ?? j.fraction, message };
}

/** Seconds left, from the current phase's rate; null until there is a rate to go on. */
export function jobEta(j: JobView, now: number): number | null {
  if (j.fraction === null) return null;
  const done = j.fraction - j.phaseFraction;
  const elapsed = (now - j.phaseAt) / 1000;
  if (done < 0.02 || elapsed < 0.3) return null;
  return (elapsed / done) * (1 - j.fraction);
}
