/**
 * Drop files anywhere on the window to import them. Both hosts send the file's text
 * (`library.import` with {name, text}); the engine tells the kind from the content and
 * validates it, never the renderer.
 */
import React, { useEffect } from 'react';
import { useActions, useAppState } from '../../state/context';

const hasFiles = (e: DragEvent): boolean => !!e.dataTransfer && [...e.dataTransfer.types].includes('Files');

export function DropZone(): React.JSX.Element | null {
  const actions = useActions();
  const dragging = useAppState((s) => s.dragging);
  useEffect(() => {
    let depth = 0;
    const enter = (e: DragEvent): void => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth++;
      actions.setDragging(true);
    };
    const over = (e: DragEvent): void => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    };
    const leave = (e: DragEvent): void => {
      if (!hasFiles(e)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) actions.setDragging(false);
    };
    const drop = (e: DragEvent): void => {
      // Always prevent the default: a dropped file would otherwise replace the page.
      e.preventDefault();
      depth = 0;
      actions.setDragging(false);
      const files = [...(e.dataTransfer?.files ?? [])];
      if (files.length) void actions.importFiles(files);
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, [actions]);
  if (!dragging) return null;
  return (
    <div className="drop-overlay" aria-hidden="true">
      <div>
        <strong>Drop to import</strong>
        <span>cluster JSON · agreement JSONL · circuit JSON · annotation JSONL</span>
      </div>
    </div>
  );
}
