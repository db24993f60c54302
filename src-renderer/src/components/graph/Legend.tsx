/**
 * What the colours, shapes and widths mean (the same encodings as the static figure), as one
 * line above the graph, where it covers nothing.
 */
import React from 'react';
import { NEGATIVE_COLOR, POSITIVE_COLOR, divergingColor } from '../../../../src-main/view';
import { fmtNum } from '../../util/format';

const STOPS = [-1, -0.6, -0.2, 0.2, 0.6, 1];

export function Legend({ maxEffect, maxWeight, compare }: { maxEffect: number; maxWeight: number; compare?: boolean }): React.JSX.Element {
  return (
    <div className="legend" role="group" aria-label="Legend">
      <div className="legend-row">
        <span className="legend-title">effect</span>
        <span className="legend-num">{fmtNum(-maxEffect)}</span>
        {STOPS.map((t) => (
          <span key={t} className="swatch" style={{ background: divergingColor(t) }} />
        ))}
        <span className="legend-num">{fmtNum(maxEffect)}</span>
        <span className="muted">(blue + helps, orange − hurts)</span>
      </div>
      <div className="legend-row">
        <span className="lg-box" /> feature <span className="lg-tri" /> SAE error <span className="lg-dia" /> metric y
      </div>
      <div className="legend-row">
        <span className="legend-title">edges</span>
        <span className="line" style={{ background: POSITIVE_COLOR }} /> {compare ? 'weight up (B − A > 0)' : 'positive'}
        <span className="line" style={{ background: NEGATIVE_COLOR }} /> {compare ? 'weight down' : 'negative'}
        {compare && (
          <>
            <span className="line neutral" /> unchanged
          </>
        )}
        <span className="muted">width ∝ |{compare ? 'change' : 'weight'}| (max {fmtNum(maxWeight)})</span>
      </div>
    </div>
  );
}
