/**
 * A minimal external store (get / set / subscribe) read through useSyncExternalStore with a
 * selector. Components subscribe to the slice they show, so a selection change re-renders only
 * the nodes whose own `selected` flag flipped, not the whole graph.
 */
import { useCallback, useSyncExternalStore } from 'react';

export interface Store<S> {
  get(): S;
  set(update: Partial<S> | ((s: S) => Partial<S>)): void;
  subscribe(listener: () => void): () => void;
}

export function createStore<S extends object>(initial: S): Store<S> {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => state,
    set(update) {
      const patch = typeof update === 'function' ? update(state) : update;
      let changed = false;
      for (const k in patch) {
        if (!Object.is(patch[k], state[k])) {
          changed = true;
          break;
        }
      }
      if (!changed) return;
      state = { ...state, ...patch };
      for (const l of [...listeners]) l();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Reads one slice; the selector must return a stable value (a field, a primitive). */
export function useSelector<S, T>(store: Store<S>, selector: (s: S) => T): T {
  const get = useCallback(() => selector(store.get()), [store, selector]);
  return useSyncExternalStore(store.subscribe, get, get);
}
