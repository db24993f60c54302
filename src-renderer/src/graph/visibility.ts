/**
 * Which nodes the filters show, as a store the node components subscribe to one id at a time
 * (the same idea as keeping the selection apart from the node array): a threshold change
 * re-renders only the nodes that appear or disappear, and React Flow's node list stays as it
 * is, so it neither re-adopts 2 000 nodes nor unmounts and re-measures them.
 */
import { createContext, useCallback, useContext } from 'react';
import { METRIC_NODE } from '../../../src-main/view';
import { createStore, useSelector, type Store } from '../state/store';

export type VisibilityStore = Store<{ visible: ReadonlySet<string> | null }>;

export const createVisibility = (): VisibilityStore => createStore<{ visible: ReadonlySet<string> | null }>({ visible: null });

/** null (no provider, or no filter yet): every node is shown. */
export const VisibilityContext = createContext<VisibilityStore | null>(null);
const everything: VisibilityStore = createVisibility();

/** Whether the filters show node `id`; always true while `ignore` (the far-zoom canvas draws nodes then). */
export function useShown(id: string, ignore = false): boolean {
  const store = useContext(VisibilityContext) ?? everything;
  return useSelector(
    store,
    useCallback((s: { visible: ReadonlySet<string> | null }) => ignore || id === METRIC_NODE || s.visible === null || s.visible.has(id), [id, ignore]),
  );
}
