/**
 * The desktop app's native menu: the usual roles, plus Undo, Redo, Delete and Fit sent to the
 * focused window's editor as an `app.command` event (contract.ts), so the menu and the keyboard
 * do the same thing on every platform (on macOS the menu sees Cmd+Z before the page does).
 */
import { BrowserWindow, Menu, type MenuItemConstructorOptions } from 'electron';
import { IPC_EVENT } from './ipc-channels';

type Command = 'undo' | 'redo' | 'delete' | 'fit';

function send(command: Command): void {
  BrowserWindow.getFocusedWindow()?.webContents.send(IPC_EVENT, 'app.command', { command });
}

export function installMenu(): void {
  const mac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(mac ? [{ role: 'appMenu' as const }] : []),
    { role: 'fileMenu' },
    {
      label: 'Edit',
      submenu: [
        // On macOS the menu takes these keys before the page, so it must send them; elsewhere
        // the page's own shortcuts (keyboard.ts) handle the keys and the menu only shows them.
        { label: 'Undo', accelerator: 'CmdOrCtrl+Z', registerAccelerator: mac, click: () => send('undo') },
        { label: 'Redo', accelerator: mac ? 'Shift+Cmd+Z' : 'Ctrl+Y', registerAccelerator: mac, click: () => send('redo') },
        { type: 'separator' },
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
        { label: 'Prune Selection', accelerator: 'Delete', registerAccelerator: false, click: () => send('delete') },
      ],
    },
    {
      label: 'View',
      submenu: [{ label: 'Fit Graph', accelerator: 'F', registerAccelerator: false, click: () => send('fit') }, { type: 'separator' }, { role: 'togglefullscreen' }, { role: 'toggleDevTools' }],
    },
    { role: 'windowMenu' },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
