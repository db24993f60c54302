/**
 * Electron IPC transport for the API: one `handle` for every request and one event channel,
 * both thin; the ApiSession validates every payload (handlers.ts). One session per
 * WebContents, so closing or reloading a window cancels the jobs it started.
 */
import { ipcMain, type WebContents } from 'electron';
import type { Api, ApiSession } from '../api/handlers';
import type { Reply } from '../api/contract';
import { IPC_EVENT, IPC_INVOKE } from './ipc-channels';

/** `isTrustedUrl`: whether a frame at this URL is our renderer (and may use the API). */
export function registerIpc(api: Api, isTrustedUrl: (url: string) => boolean): void {
  const sessions = new Map<number, ApiSession>();

  const drop = (id: number): void => {
    sessions.get(id)?.close();
    sessions.delete(id);
  };

  const sessionFor = (wc: WebContents): ApiSession => {
    let s = sessions.get(wc.id);
    if (!s) {
      const id = wc.id;
      s = api.connect((event, payload) => {
        if (!wc.isDestroyed()) wc.send(IPC_EVENT, event, payload);
      });
      sessions.set(id, s);
      wc.once('destroyed', () => drop(id));
      // A reload starts a new page that knows none of the old jobs.
      wc.once('did-navigate', () => drop(id));
    }
    return s;
  };

  ipcMain.handle(IPC_INVOKE, (e, channel: unknown, payload: unknown): Promise<Reply> | Reply => {
    // Only our own top-level page may call (not an iframe or a page navigated elsewhere).
    const frame = e.senderFrame;
    if (!frame || frame.parent !== null || !isTrustedUrl(frame.url)) {
      return { ok: false, error: { code: 'bad_request', message: 'IPC from an untrusted frame was refused' } };
    }
    return sessionFor(e.sender).handle(channel, payload);
  });
}
