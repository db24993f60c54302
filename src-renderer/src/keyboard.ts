/**
 * Keyboard shortcuts of the editor: Ctrl/Cmd+Z undo, Ctrl/Cmd+Shift+Z or Ctrl+Y redo, Delete
 * or Backspace prune the selection, F fit, Escape clear the selection, Ctrl/Cmd+A select every
 * shown node, / search. Ignored while typing in a field.
 */
import { useEffect } from 'react';
import { visibleIds } from './components/graph/GraphView';
import { useActions, useStoreApi } from './state/context';

const typing = (t: EventTarget | null): boolean => {
  const el = t as HTMLElement | null;
  if (!el || !el.tagName) return false;
  return el.isContentEditable || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || (el.tagName === 'INPUT' && !['range', 'checkbox', 'radio', 'button', 'submit'].includes((el as HTMLInputElement).type));
};

export function useShortcuts(): void {
  const actions = useActions();
  const store = useStoreApi();
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (typing(e.target) || e.altKey) return;
      const s = store.get();
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      const inGraph = s.view === 'graph' && !!s.circuit;
      if (mod && key === 'z' && !e.shiftKey) {
        e.preventDefault();
        void actions.undo();
      } else if (mod && ((key === 'z' && e.shiftKey) || key === 'y')) {
        e.preventDefault();
        void actions.redo();
      } else if (!mod && inGraph && (e.key === 'Delete' || e.key === 'Backspace') && s.selection.size) {
        e.preventDefault();
        actions.prune();
      } else if (!mod && inGraph && key === 'f') {
        e.preventDefault();
        actions.fit();
      } else if (!mod && inGraph && e.key === 'Escape') {
        actions.clearSelection();
      } else if (mod && inGraph && key === 'a') {
        e.preventDefault();
        actions.select([...visibleIds.current], 'replace');
      } else if (!mod && inGraph && e.key === '/') {
        const search = document.querySelector<HTMLInputElement>('.graph-toolbar input[type="search"]');
        if (search) {
          e.preventDefault();
          search.focus();
        }
      }
    };
    window.addEventListener('keydown', onKey);
    // The desktop menu (src-main/app/menu.ts): in a text field its Undo/Redo/Delete are the
    // field's own; elsewhere they are the editor's.
    const offMenu = actions.onAppCommand((command) => {
      const s = store.get();
      if (typing(document.activeElement)) {
        document.execCommand(command === 'delete' ? 'forwardDelete' : command);
        return;
      }
      if (command === 'undo') void actions.undo();
      else if (command === 'redo') void actions.redo();
      else if (s.view === 'graph' && s.circuit) {
        if (command === 'delete' && s.selection.size) actions.prune();
        if (command === 'fit') actions.fit();
      }
    });
    return () => {
      window.removeEventListener('keydown', onKey);
      offMenu();
    };
  }, [actions, store]);
}
