/** The status line: what the last action did or why it failed (read out by screen readers). */
import React, { useEffect } from 'react';
import { useActions, useAppState } from '../state/context';

export function Notice(): React.JSX.Element {
  const actions = useActions();
  const notice = useAppState((s) => s.notice);
  useEffect(() => {
    if (!notice || notice.kind === 'error') return;
    const t = setTimeout(actions.dismissNotice, 8000);
    return () => clearTimeout(t);
  }, [notice, actions]);
  return (
    <div className={`notice${notice ? ` ${notice.kind}` : ''}`} role="status" aria-live="polite" data-testid="notice">
      {notice && (
        <>
          <span>{notice.text}</span>
          <button type="button" className="link" onClick={actions.dismissNotice}>
            Dismiss
          </button>
        </>
      )}
    </div>
  );
}
