/**
 * The WebSocket side of `window.sfc`, for the UI served by `sfc serve`: same invoke/on as the
 * Electron preload, so the rest of the app does not care which transport it runs on.
 */
import type { EventName, Reply, SfcBridge, WsMessage } from '../../../src-main/api/contract';

export type ConnectionStatus = 'connecting' | 'connected' | 'disconnected' | 'error';

export function connectWebSocket(url: string, onStatus: (status: ConnectionStatus, detail?: string) => void): SfcBridge {
  const ws = new WebSocket(url);
  const pending = new Map<number, (r: Reply) => void>();
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  let nextId = 1;
  let everOpened = false;

  const opened = new Promise<void>((resolve) => ws.addEventListener('open', () => resolve()));
  onStatus('connecting');
  ws.addEventListener('open', () => {
    everOpened = true;
    onStatus('connected');
  });
  ws.addEventListener('close', () => {
    // A browser hides the HTTP status of a refused upgrade; a close before ever opening is
    // almost always the token (the server also checks Host and Origin).
    if (everOpened) onStatus('disconnected', 'the connection to sfc serve was closed');
    else onStatus('error', 'could not connect: the token in the URL is missing or wrong, or sfc serve has stopped');
    for (const resolve of pending.values()) resolve({ ok: false, error: { code: 'failed', message: 'connection closed' } });
    pending.clear();
  });
  ws.addEventListener('message', (e) => {
    const m = JSON.parse(String(e.data)) as WsMessage;
    if (m.type === 'event') listeners.get(m.event)?.forEach((cb) => cb(m.payload));
    else if (typeof m.id === 'number') {
      const { type: _type, id, ...reply } = m;
      pending.get(id)?.(reply as Reply);
      pending.delete(id);
    }
  });

  return {
    async invoke(channel, payload) {
      if (ws.readyState === WebSocket.CONNECTING) await opened;
      if (ws.readyState !== WebSocket.OPEN) return { ok: false, error: { code: 'failed', message: 'not connected' } };
      const id = nextId++;
      return new Promise<Reply>((resolve) => {
        pending.set(id, resolve);
        ws.send(JSON.stringify({ id, channel, payload }));
      });
    },
    on(event, cb) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(cb);
      return () => set.delete(cb);
    },
  };
}
