/**
 * One circuit node in React Flow. Memoised, and it reads only its own selection flag and the
 * zoom level-of-detail flag, so a selection or threshold change re-renders only the nodes it
 * touches. Far out, a node is a plain coloured box (labels would be unreadable anyway).
 */
import React, { memo, useCallback } from 'react';
import { useStore, type NodeProps, type ReactFlowState } from '@xyflow/react';
import { shapePath } from '../../../../src-main/view';
import type { FlowNode } from '../../graph/model';
import { useAppState } from '../../state/context';
import { useShown } from '../../graph/visibility';

/** Below this zoom, nodes drop their text (Cytoscape's min-zoomed-font-size idea). */
export const LOD_ZOOM = 0.5;
const farSelector = (s: ReactFlowState): boolean => s.transform[2] < LOD_ZOOM;

const STATUS_TAG: Record<string, string> = { onlyA: 'A only', onlyB: 'B only' };

function FeatureNodeView({ id, data, width, height }: NodeProps<FlowNode>): React.JSX.Element {
  const selected = useAppState(useCallback((s) => s.selection.has(id), [id]));
  const far = useStore(farSelector);
  // Far out the canvas draws the nodes (graph/draw.ts) and this layer is hidden: render nothing
  // and ignore filter changes, so a threshold move at overview zoom touches no component.
  const shown = useShown(id, far);
  const w = width ?? 132;
  const h = height ?? 32;
  // A filtered-out node stays mounted but invisible (its React Flow wrapper is hidden by CSS,
  // so it takes no clicks or focus); see graph/visibility.ts.
  const cls = `fnode shape-${data.shape}${selected ? ' selected' : ''}${data.status ? ` status-${data.status}` : ''}${shown ? '' : ' filtered'}`;
  const path = data.shape === 'box' ? null : shapePath(data.shape, { x: 1, y: 1, width: w - 2, height: h - 2 });
  const boxStyle = data.shape === 'box' ? { background: data.fill } : undefined;
  if (far) return <div className="fnode far" data-label={data.label} />;
  return (
    <div className={cls} style={boxStyle} title={data.title} data-id={id} data-label={data.label}>
      {path && (
        <svg className="fnode-shape" width={w} height={h} aria-hidden="true">
          <path d={path} fill={data.fill} />
        </svg>
      )}
      {data.glyph && (
        <span className="fnode-glyph" style={{ color: data.shape === 'box' ? data.ink : '#1a1a1a' }} aria-hidden="true">
          {data.glyph}
        </span>
      )}
      <span className="fnode-label" style={{ color: data.shape === 'box' ? data.ink : '#1a1a1a' }}>
        {data.label}
      </span>
      {data.badge && <span className="fnode-badge">{data.badge}</span>}
      {data.group && <span className="fnode-group">{data.group}</span>}
      {data.status && STATUS_TAG[data.status] && <span className="fnode-status">{STATUS_TAG[data.status]}</span>}
    </div>
  );
}

export const FeatureNode = memo(FeatureNodeView);
export const nodeTypes = { feature: FeatureNode };
