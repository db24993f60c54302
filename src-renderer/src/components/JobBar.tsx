/** A running job: progress bar (indeterminate while the engine gives no fraction), ETA, Cancel. */
import React, { useEffect, useState } from 'react';
import { jobEta } from '../state/history';
import type { JobView } from '../state/types';
import { fmtDuration } from '../util/format';

export function JobBar({ job, label, onCancel, compact }: { job: JobView; label: string; onCancel?: () => void; compact?: boolean }): React.JSX.Element {
  // Re-render every half second so the elapsed time and ETA move between progress events.
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, []);
  const eta = jobEta(job, now);
  const elapsed = (now - job.startedAt) / 1000;
  const pct = job.fraction === null ? null : Math.round(job.fraction * 100);
  return (
    <div className={`job${compact ? ' compact' : ''}`} data-testid="job">
      <div className="job-head">
        <span>
          {label}
          {!compact && job.message ? <span className="muted">: {job.message}</span> : null}
        </span>
        <span className="muted">
          {pct !== null ? `${pct}% of this step · ` : ''}{fmtDuration(elapsed)} elapsed{eta !== null ? ` · ${eta < 1 ? 'under 1 s' : `about ${fmtDuration(eta)}`} left` : ''}
        </span>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
      <progress aria-label={`${label} progress`} value={pct ?? undefined} max={100} />
    </div>
  );
}
