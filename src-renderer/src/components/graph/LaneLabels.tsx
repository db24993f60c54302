/**
 * Lane names (submodules) pinned to the left edge of the graph while it pans, above the nodes
 * so they are never covered. Inside <ReactFlow> to follow the viewport in the same frame.
 */
import React from 'react';
import { useStore, type ReactFlowState } from '@xyflow/react';
import { METRIC_NODE } from '../../../../src-main/view';
import type { GraphModel } from '../../graph/model';

const transformSelector = (s: ReactFlowState): [number, number, number] => s.transform;
const heightSelector = (s: ReactFlowState): number => s.height;

export function LaneLabels({ model }: { model: GraphModel }): React.JSX.Element {
  const [, ty, k] = useStore(transformSelector);
  const height = useStore(heightSelector);
  return (
    <div className="lane-labels" aria-hidden="true">
      {model.layout.rows.map((r) => {
        const top = ty + r.y * k;
        const h = (r.height + model.layout.options.rowGap) * k;
        if (top + h < -20 || top > height + 20) return null;
        // Too little room for every lane: keep the residual stream's lanes as landmarks.
        if (h < 16 && !/^(resid|embed|y$)/.test(r.submodule)) return null;
        return (
          <div key={r.submodule} className="lane-label" style={{ top: ty + (r.y + r.height / 2) * k }}>
            {r.submodule === METRIC_NODE ? 'metric' : r.label}
          </div>
        );
      })}
    </div>
  );
}
