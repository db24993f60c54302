/**
 * The two Electron IPC channel names, shared by the main process (ipc.ts) and the preload.
 * Kept free of imports so the sandboxed preload bundle stays tiny (no zod, no Node modules).
 * The API's own channels (contract.ts) travel inside these two, so the main process can
 * answer an unknown channel with a clear error instead of Electron's "no handler registered".
 */
export const IPC_INVOKE = 'sfc:invoke';
export const IPC_EVENT = 'sfc:event';
