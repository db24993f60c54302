/**
 * The edge layer: one canvas under React Flow's nodes, redrawn when the viewport, the filter
 * or the highlight changes (graph/draw.ts). It lives inside <ReactFlow> to read the viewport
 * from React Flow's store in the same commit as the nodes move, so edges never lag a frame.
 */
import React, { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useStore, type ReactFlowState } from '@xyflow/react';
import { drawLayer, type NodeLayer } from '../../graph/draw';
import type { GraphModel } from '../../graph/model';
import { LOD_ZOOM } from './FeatureNode';

const transformSelector = (s: ReactFlowState): [number, number, number] => s.transform;
export const farSelector = (s: ReactFlowState): boolean => s.transform[2] < LOD_ZOOM;

/** Edges always; the nodes too when zoomed far out (`nodes`; React Flow's node layer is hidden then). */
export function EdgeCanvas({ model, mask, highlight, nodes }: { model: GraphModel; mask: Uint8Array; highlight: Uint8Array | null; nodes?: NodeLayer }): React.JSX.Element {
  const ref = useRef<HTMLCanvasElement>(null);
  const transform = useStore(transformSelector);
  const far = useStore(farSelector);
  const [size, setSize] = useState({ w: 0, h: 0, dpr: 1 });

  useEffect(() => {
    const canvas = ref.current;
    const parent = canvas?.parentElement;
    if (!canvas || !parent) return;
    const ro = new ResizeObserver(() => setSize({ w: parent.clientWidth, h: parent.clientHeight, dpr: window.devicePixelRatio || 1 }));
    ro.observe(parent);
    return () => ro.disconnect();
  }, []);

  useLayoutEffect(() => {
    const canvas = ref.current;
    if (!canvas || size.w === 0) return;
    const W = Math.round(size.w * size.dpr);
    const H = Math.round(size.h * size.dpr);
    if (canvas.width !== W) canvas.width = W;
    if (canvas.height !== H) canvas.height = H;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const t0 = performance.now();
    const { drawn } = drawLayer(ctx, { width: size.w, height: size.h, dpr: size.dpr, transform, model, mask, highlight, nodes: far ? nodes : null });
    // Read by the benchmark (test/bench): edges stroked and milliseconds of the last frame.
    canvas.dataset.drawn = String(drawn);
    canvas.dataset.ms = (performance.now() - t0).toFixed(2);
  }, [transform, model, mask, highlight, size, far, nodes]);

  return <canvas ref={ref} className="edge-canvas" data-testid="edge-canvas" aria-hidden="true" style={{ width: size.w, height: size.h }} />;
}
