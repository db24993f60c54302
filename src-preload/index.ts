/**
 * Preload (sandboxed, so built as CommonJS): exposes `window.sfc` with invoke(channel, payload),
 * on(event, cb) and pathForFile(file) for dropped files. No ipcRenderer, no Node, and the IPC event object
 * (which carries `sender`) is never handed to the page. The main process validates everything.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { IPC_EVENT, IPC_INVOKE } from '../src-main/app/ipc-channels';
import type { Reply, SfcBridge } from '../src-main/api/contract';

const bridge: SfcBridge = {
  invoke: (channel, payload) => ipcRenderer.invoke(IPC_INVOKE, channel, payload) as Promise<Reply>,
  on(event, cb) {
    const listener = (_e: IpcRendererEvent, name: unknown, payload: unknown): void => {
      if (name === event) cb(payload);
    };
    ipcRenderer.on(IPC_EVENT, listener);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT, listener);
    };
  },
  // A dropped file's path (File.path is gone since Electron 32); the main process reads and
  // validates the file itself (library.import).
  pathForFile: (file) => webUtils.getPathForFile(file),
};

contextBridge.exposeInMainWorld('sfc', bridge);
