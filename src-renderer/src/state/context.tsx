/**
 * The one store of UI state, made once by <WorkbenchProvider>. Components read slices with
 * useAppState(selector) and call actions from useActions(); the actions are the only code that
 * talks to the API.
 */
import React, { createContext, useContext, useEffect, useState } from 'react';
import { createActions, type Actions } from './actions';
import { createStore, useSelector, type Store } from './store';
import { initialState, type State } from './types';

interface Workbench {
  store: Store<State>;
  actions: Actions;
}

const WorkbenchContext = createContext<Workbench | null>(null);

export function WorkbenchProvider({ children }: { children: React.ReactNode }): React.JSX.Element {
  const [wb] = useState<Workbench>(() => {
    const store = createStore<State>(initialState);
    return { store, actions: createActions(store) };
  });
  useEffect(() => wb.actions.init(), [wb]);
  return <WorkbenchContext.Provider value={wb}>{children}</WorkbenchContext.Provider>;
}

function useWorkbench(): Workbench {
  const wb = useContext(WorkbenchContext);
  if (!wb) throw new Error('useAppState/useActions must be used inside <WorkbenchProvider>');
  return wb;
}

/** One slice of the state; pass a selector defined outside the component or memoised. */
export function useAppState<T>(selector: (s: State) => T): T {
  return useSelector(useWorkbench().store, selector);
}

export function useActions(): Actions {
  return useWorkbench().actions;
}

/** The store itself, for handlers that read the latest state without subscribing. */
export function useStoreApi(): Store<State> {
  return useWorkbench().store;
}
