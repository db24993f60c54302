/**
 * All UI state in one place: a reducer plus the few actions that talk to the engine.
 * Components read `state` and call `actions` from WorkbenchContext; none of them talks to
 * the API directly.
 */
import { createContext, useContext, useEffect, useMemo, useReducer, useRef } from 'react';
import type { AppInfo, ModelInfo, TokenProb } from '../../src-main/api/contract';
import { ApiClient, connect, type ConnectionStatus } from './api/client';

export interface State {
  connection: { status: ConnectionStatus; detail: string | null };
  appInfo: AppInfo | null;
  appInfoError: string | null;
  model: { info: ModelInfo | null; loading: boolean; error: string | null };
  predict: { running: boolean; progress: string | null; result: TokenProb[] | null; error: string | null };
}

type Action =
  | { type: 'connection'; status: ConnectionStatus; detail?: string }
  | { type: 'appInfo'; info: AppInfo }
  | { type: 'appInfoError'; error: string }
  | { type: 'model/loading' }
  | { type: 'model/loaded'; info: ModelInfo }
  | { type: 'model/error'; error: string }
  | { type: 'predict/start' }
  | { type: 'predict/progress'; message: string }
  | { type: 'predict/done'; result: TokenProb[] }
  | { type: 'predict/error'; error: string };

export const initialState: State = {
  connection: { status: 'connecting', detail: null },
  appInfo: null,
  appInfoError: null,
  model: { info: null, loading: false, error: null },
  predict: { running: false, progress: null, result: null, error: null },
};

export function reducer(s: State, a: Action): State {
  switch (a.type) {
    case 'connection':
      return { ...s, connection: { status: a.status, detail: a.detail ?? null } };
    case 'appInfo':
      return { ...s, appInfo: a.info, appInfoError: null };
    case 'appInfoError':
      return { ...s, appInfoError: a.error };
    case 'model/loading':
      return { ...s, model: { ...s.model, loading: true, error: null } };
    case 'model/loaded':
      return { ...s, model: { info: a.info, loading: false, error: null } };
    case 'model/error':
      return { ...s, model: { ...s.model, loading: false, error: a.error } };
    case 'predict/start':
      return { ...s, predict: { running: true, progress: null, result: null, error: null } };
    case 'predict/progress':
      return { ...s, predict: { ...s.predict, progress: a.message } };
    case 'predict/done':
      return { ...s, predict: { running: false, progress: null, result: a.result, error: null } };
    case 'predict/error':
      return { ...s, predict: { ...s.predict, running: false, progress: null, error: a.error } };
  }
}

export interface Actions {
  predict(text: string, top?: number): void;
  cancelPredict(): void;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Creates the store and connects to the engine once; used by <App>. */
export function useWorkbenchStore(): { state: State; actions: Actions } {
  const [state, dispatch] = useReducer(reducer, initialState);
  const client = useRef<ApiClient | null>(null);
  const predictAbort = useRef<AbortController | null>(null);

  useEffect(() => {
    const api = connect((status, detail) => dispatch({ type: 'connection', status, detail }));
    client.current = api;
    if (!api) return;
    api
      .call('app.info', {})
      .then(async (info) => {
        dispatch({ type: 'appInfo', info });
        if (!info.model) return;
        dispatch({ type: 'model/loading' });
        try {
          dispatch({ type: 'model/loaded', info: await api.job('model.info', {}) });
        } catch (e) {
          dispatch({ type: 'model/error', error: message(e) });
        }
      })
      .catch((e: unknown) => dispatch({ type: 'appInfoError', error: message(e) }));
  }, []);

  const actions = useMemo<Actions>(
    () => ({
      predict(text, top = 10) {
        const api = client.current;
        if (!api) return;
        predictAbort.current?.abort();
        const abort = (predictAbort.current = new AbortController());
        dispatch({ type: 'predict/start' });
        api
          .job('model.predict', { text, top }, {
            signal: abort.signal,
            onProgress: (_f, msg) => dispatch({ type: 'predict/progress', message: msg }),
          })
          .then((result) => dispatch({ type: 'predict/done', result }))
          .catch((e: unknown) => dispatch({ type: 'predict/error', error: message(e) }));
      },
      cancelPredict() {
        predictAbort.current?.abort();
      },
    }),
    [],
  );

  return { state, actions };
}

export const WorkbenchContext = createContext<{ state: State; actions: Actions } | null>(null);

export function useWorkbench(): { state: State; actions: Actions } {
  const ctx = useContext(WorkbenchContext);
  if (!ctx) throw new Error('useWorkbench must be used inside <WorkbenchContext.Provider>');
  return ctx;
}
