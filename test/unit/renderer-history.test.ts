/**
 * Undo and redo over stored versions, the history tree, and job progress (ETA) in the editor
 * (src-renderer/src/state/history.ts), plus the one store's change notification.
 */
import { describe, expect, it } from 'vitest';
import type { CircuitSummary } from '../../src-main/store/records';
import { describeEdit, jobEta, nextRedoStack, progressJob, redoTarget, startJob, undoTarget, versionTree } from '../../src-renderer/src/state/history';
import { createStore } from '../../src-renderer/src/state/store';

const v = (id: number, parentId: number | null, edit: CircuitSummary['edit'] = null): CircuitSummary => ({
  id,
  name: 'c',
  versionLabel: null,
  parentId,
  rootId: 1,
  edit,
  modelId: 1,
  saeSetId: 1,
  datasetId: 1,
  parameters: {},
  nodes: 10,
  edges: 20,
  tags: [],
  createdAt: '2026-01-01T00:00:00Z',
});

// 1 ─ 2 ─ 3
//   └ 4
const history = [v(1, null), v(2, 1, { op: 'prune', nodes: ['a', 'b'] }), v(3, 2, { op: 'keepOnly', nodes: ['c'] }), v(4, 1, { op: 'group', name: 'g', nodes: ['a'] })];

describe('undo / redo over versions', () => {
  it('undo goes to the parent; the root has none', () => {
    expect(undoTarget(history[2])).toBe(2);
    expect(undoTarget(history[0])).toBe(null);
  });

  it('redo returns to the version undo left, else to the newest child', () => {
    let redo = nextRedoStack([], history[2], 2, 'undo'); // 3 → 2
    expect(redo).toEqual([3]);
    redo = nextRedoStack(redo, history[1], 1, 'undo'); // 2 → 1
    expect(redo).toEqual([3, 2]);
    expect(redoTarget(history[0], history, redo)).toBe(2); // not 4, the newest child
    redo = nextRedoStack(redo, history[0], 2, 'redo');
    expect(redo).toEqual([3]);
    expect(redoTarget(history[1], history, redo)).toBe(3);
    // After a reload (no stack) redo follows the newest child.
    expect(redoTarget(history[0], history, [])).toBe(4);
    expect(redoTarget(history[2], history, [])).toBe(null);
    // A jump or a new edit forgets the stack.
    expect(nextRedoStack([3, 2], history[0], 4, 'jump')).toEqual([]);
  });

  it('lists versions as a tree and says what each edit did', () => {
    expect(versionTree(history).map((x) => [x.summary.id, x.depth])).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
      [4, 1],
    ]);
    expect(history.map(describeEdit)).toEqual(['discovered', 'pruned 2 nodes', 'kept only 1 node', 'grouped 1 node as “g”']);
  });
});

describe('job progress', () => {
  it('estimates the time left from the current phase and restarts when the fraction falls', () => {
    let j = startJob(0);
    expect(jobEta(j, 1000)).toBe(null);
    j = progressJob(j, 1, 'loading model', 500); // a loading phase ends at 100 %
    j = progressJob(j, 0, 'batch 1/4', 1000); // the next phase starts over
    expect(j.phaseAt).toBe(1000);
    j = progressJob(j, 0.25, 'batch 2/4', 3000);
    expect(jobEta(j, 3000)).toBeCloseTo(6, 6); // 2 s for 25 % → 6 s for the rest
    j = progressJob(j, null, 'still going', 3500);
    expect(j.fraction).toBe(0.25);
    expect(j.message).toBe('still going');
  });
});

describe('the store', () => {
  it('notifies only on real changes', () => {
    const s = createStore({ a: 1, b: new Set<string>() });
    let calls = 0;
    const off = s.subscribe(() => calls++);
    s.set({ a: 1 });
    expect(calls).toBe(0);
    s.set((st) => ({ a: st.a + 1 }));
    expect(calls).toBe(1);
    expect(s.get().a).toBe(2);
    off();
    s.set({ a: 3 });
    expect(calls).toBe(1);
  });
});
