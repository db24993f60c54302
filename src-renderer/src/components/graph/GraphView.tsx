/**
 * The circuit graph: React Flow for the nodes (pan, zoom, minimap), a canvas for the edges and
 * lanes, the threshold sliders and search above it, and the selection bar. Layout comes from
 * the graph model (computed once per circuit); sliders and search only flip `hidden` flags.
 */
import React, { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { ControlButton, Controls, MiniMap, ReactFlow, ReactFlowProvider, useReactFlow, useStore, type Edge, type Node, type NodeMouseHandler, type ReactFlowState } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { filterCircuit, type FilterResult } from '../../../../src-main/view';
import { buildFlowNodes, edgeMask, fitBounds, incidentMask, labelOf, nodeAt, nodesInRect, type FlowNode, type GraphModel } from '../../graph/model';
import { useActions, useAppState } from '../../state/context';
import type { Experiment, OpenCircuit } from '../../state/types';
import { EdgeCanvas, farSelector } from './EdgeCanvas';
import { nodeTypes } from './FeatureNode';
import { VisibilityContext, createVisibility } from '../../graph/visibility';
import { GraphToolbar } from './GraphToolbar';
import { LaneLabels } from './LaneLabels';

const NO_EDGES: Edge[] = [];
export const MINIMAP_SIZE = { width: 170, height: 110 };
const paneWidth = (s: ReactFlowState): number => s.width;
const minimapColor = (n: Node): string => ((n.data as { fill?: string }).fill ?? '#ccc');

/** Which experiments touched each node: a NodeRef without a position matches every position. */
export function experimentBadges(c: OpenCircuit, experiments: readonly Experiment[]): Map<string, string> {
  const hits = new Map<string, number[]>();
  for (const x of experiments) {
    const refs = (x.params as { nodes?: { submodule: string; feature: number | 'error'; position?: number }[] }).nodes ?? [];
    for (const r of refs) {
      for (const n of c.circuit.nodes) {
        if (n.submodule === r.submodule && n.feature === r.feature && (r.position === undefined || r.position === n.position)) {
          const l = hits.get(n.id);
          if (!l) hits.set(n.id, [x.id]);
          else if (!l.includes(x.id)) l.push(x.id);
        }
      }
    }
  }
  return new Map([...hits].map(([id, xs]) => [id, `E${xs.join(',')}`]));
}

export function GraphView({ hidden }: { hidden: boolean }): React.JSX.Element {
  const circuit = useAppState((s) => s.circuit);
  const opening = useAppState((s) => s.opening);
  const nodeThreshold = useAppState((s) => s.nodeThreshold);
  const edgeThreshold = useAppState((s) => s.edgeThreshold);
  const search = useAppState((s) => s.search);
  const selection = useAppState((s) => s.selection);
  const annotationText = useAppState((s) => s.annotationText);
  // One pass of the shared pure filter per change (a few ms at 10 000 edges); never a relayout.
  const filter: FilterResult | null = useMemo(
    () => (circuit ? filterCircuit(circuit.circuit, { nodeThreshold, edgeThreshold, search, pinned: selection, annotations: annotationText }) : null),
    [circuit, nodeThreshold, edgeThreshold, search, selection, annotationText],
  );
  return (
    <div className="graph-view" data-testid="graph-view" hidden={hidden}>
      {circuit && filter && <GraphToolbar filter={filter} />}
      <div className="graph-area">
        <ReactFlowProvider>
          <FlowCanvas circuit={circuit} filter={filter} />
        </ReactFlowProvider>
        {!circuit && (
          <div className="graph-empty" data-testid="graph-empty">
            <p>{opening ? 'Opening the circuit…' : 'No circuit open.'}</p>
            {!opening && <p className="muted">Open one from the Library, drop a circuit JSON on the window, or discover one (Discover tab).</p>}
          </div>
        )}
      </div>
    </div>
  );
}

function FlowCanvas({ circuit, filter }: { circuit: OpenCircuit | null; filter: FilterResult | null }): React.JSX.Element {
  const actions = useActions();
  const rf = useReactFlow();
  const selection = useAppState((s) => s.selection);
  const hover = useAppState((s) => s.hover);
  const annotationText = useAppState((s) => s.annotationText);
  const fitSeq = useAppState((s) => s.fitSeq);
  const center = useAppState((s) => s.center);
  const model: GraphModel | null = circuit?.graph ?? null;

  const badges = useMemo(() => (circuit ? experimentBadges(circuit, circuit.experiments) : new Map<string, string>()), [circuit]);
  const groups = useMemo(() => {
    const m = new Map<string, string>();
    for (const g of circuit?.circuit.groups ?? []) for (const id of g.nodes) m.set(id, m.has(id) ? `${m.get(id)}, ${g.name}` : g.name);
    return m;
  }, [circuit]);

  // Built once per circuit and label set (filters never touch it): a new label, badge or group
  // makes a new object for that node only.
  const prev = useRef<{ model: GraphModel | null; byId: Map<string, FlowNode> }>({ model: null, byId: new Map() });
  const nodes = useMemo(() => {
    if (!model || !circuit) return [] as FlowNode[];
    const reuse = prev.current.model === model ? prev.current.byId : undefined;
    const local = circuit.circuit.labels;
    const out = buildFlowNodes(model, null, { label: (n) => labelOf(n, annotationText, local), badge: (id) => badges.get(id) ?? null, group: (id) => groups.get(id) ?? null }, reuse);
    prev.current = { model, byId: new Map(out.map((n) => [n.id, n])) };
    return out;
  }, [model, circuit, annotationText, badges, groups]);
  // Filters reach the nodes through this store, never through the node array.
  const [visibility] = useState(createVisibility);
  useLayoutEffect(() => visibility.set({ visible: filter?.nodes ?? null }), [visibility, filter]);

  const nodeLayer = useMemo(() => ({ visible: filter?.nodes ?? null, selection, badges }), [filter, selection, badges]);
  const mask = useMemo(() => (model && filter ? edgeMask(model, filter.edges) : new Uint8Array(0)), [model, filter]);
  const highlight = useMemo(() => (model ? incidentMask(model, hover ? [...selection, hover] : selection) : null), [model, selection, hover]);

  const wrap = useRef<HTMLDivElement>(null);
  // Fit from the layout, not from React Flow's measured nodes (see fitBounds).
  const fitRef = useRef<() => void>(() => {});
  fitRef.current = () => {
    if (!model || !filter) return;
    // Leave the strip at the bottom free: the minimap and zoom buttons sit there.
    const b = fitBounds(model, filter.nodes);
    const h = wrap.current?.clientHeight ?? 0;
    const free = h > 300 ? h / (h - MINIMAP_SIZE.height - 20) : 1;
    void rf.fitBounds({ ...b, height: b.height * free }, { padding: 0.04, duration: 0 });
  };
  // A circuit can open while another view shows and the graph has no size: the fit waits
  // until React Flow has measured its pane.
  // (React Flow's own width reads 500 while hidden, so the pane's element is measured here.)
  const [paneSize, setPaneSize] = useState(0);
  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setPaneSize(el.clientWidth * el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const paneW = useStore(paneWidth);
  const fitted = useRef(0);
  useEffect(() => {
    if (!fitSeq || fitted.current === fitSeq || !paneSize || !model) return;
    // Marked done only when it ran: a re-run of this effect cancels the pending frame.
    const id = requestAnimationFrame(() => {
      fitted.current = fitSeq;
      fitRef.current();
    });
    return () => cancelAnimationFrame(id);
  }, [fitSeq, paneSize, paneW, model]);
  const onFit = useCallback(() => actions.fit(), [actions]);

  useEffect(() => {
    if (!center || !model) return;
    const b = model.layout.nodes.get(center.id);
    if (b) void rf.setCenter(b.x + b.width / 2, b.y + b.height / 2, { zoom: Math.max(rf.getZoom(), 0.9), duration: 200 });
  }, [center, model, rf]);

  const onNodeClick: NodeMouseHandler = useCallback((e, node) => actions.select([node.id], e.shiftKey || e.metaKey || e.ctrlKey ? 'toggle' : 'replace'), [actions]);
  // The click that ends a box selection lands on the pane: it must not clear what was boxed.
  const boxedAt = useRef(0);
  // Far out the nodes are drawn on the canvas, so clicks and hovers find them by position.
  const far = useStore(farSelector);
  const hit = useCallback((e: React.MouseEvent): string | null => (far && model ? nodeAt(model, rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }), filter?.nodes ?? null) : null), [far, model, rf, filter]);
  const onPaneClick = useCallback(
    (e: React.MouseEvent) => {
      if (performance.now() - boxedAt.current < 300) return;
      const id = hit(e);
      if (id) actions.select([id], e.shiftKey || e.metaKey || e.ctrlKey ? 'toggle' : 'replace');
      else actions.clearSelection();
    },
    [actions, hit],
  );
  const onPaneMove = useCallback((e: React.MouseEvent) => far && actions.setHover(hit(e)), [far, hit, actions]);
  const onEnter: NodeMouseHandler = useCallback((_e, node) => actions.setHover(node.id), [actions]);
  const onLeave: NodeMouseHandler = useCallback(() => actions.setHover(null), [actions]);

  // Box select: Shift+drag on the empty pane adds the boxed nodes to the selection. Caught in
  // the capture phase, so React Flow's pan never starts.
  const [box, setBox] = useState<{ x0: number; y0: number; x1: number; y1: number } | null>(null);
  const onPointerDownCapture = useCallback(
    (e: React.PointerEvent) => {
      const target = e.target as HTMLElement;
      if (!e.shiftKey || e.button !== 0 || !model || !target.closest('.react-flow__pane') || target.closest('.react-flow__node')) return;
      e.stopPropagation();
      e.preventDefault();
      const r = wrap.current!.getBoundingClientRect();
      const start = { x0: e.clientX - r.left, y0: e.clientY - r.top };
      setBox({ ...start, x1: start.x0, y1: start.y0 });
      const move = (ev: PointerEvent): void => setBox({ ...start, x1: ev.clientX - r.left, y1: ev.clientY - r.top });
      const up = (ev: PointerEvent): void => {
        window.removeEventListener('pointermove', move);
        window.removeEventListener('pointerup', up);
        setBox(null);
        boxedAt.current = performance.now();
        const a = rf.screenToFlowPosition({ x: Math.min(e.clientX, ev.clientX), y: Math.min(e.clientY, ev.clientY) });
        const b = rf.screenToFlowPosition({ x: Math.max(e.clientX, ev.clientX), y: Math.max(e.clientY, ev.clientY) });
        const vis = filter?.nodes ?? new Set<string>();
        const ids = nodesInRect(model, { x: a.x, y: a.y, width: b.x - a.x, height: b.y - a.y }, vis);
        if (ids.length) actions.select(ids, 'add');
      };
      window.addEventListener('pointermove', move);
      window.addEventListener('pointerup', up);
    },
    [model, rf, filter, actions],
  );

  // Keyboard: Enter or Space on a focused node selects it (Shift adds), as a click would.
  const onKeyDown = useCallback(
    (e: React.KeyboardEvent) => {
      if (e.key !== 'Enter' && e.key !== ' ') return;
      const el = (e.target as HTMLElement).closest('.react-flow__node');
      const id = el?.getAttribute('data-id');
      if (!id) return;
      e.preventDefault();
      actions.select([id], e.shiftKey ? 'toggle' : 'replace');
    },
    [actions],
  );

  // Counts for tests and the benchmark, on the graph's own element.
  const counts = filter?.counts;
  return (
    <VisibilityContext.Provider value={visibility}>
      <div
        className={`flow-wrap${far ? ' far' : ''}`}
        ref={wrap}
        onPointerDownCapture={onPointerDownCapture}
        onKeyDown={onKeyDown}
        data-testid="flow"
        data-visible-nodes={counts?.nodes.visible ?? 0}
        data-visible-edges={counts?.edges.visible ?? 0}
        data-selected={selection.size}
        data-version={circuit?.summary.id ?? ''}
      >
        <ReactFlow
          nodes={nodes}
          edges={NO_EDGES}
          nodeTypes={nodeTypes}
          onNodeClick={onNodeClick}
          onPaneClick={onPaneClick}
        onPaneMouseMove={onPaneMove}
          onNodeMouseEnter={onEnter}
          onNodeMouseLeave={onLeave}
          nodesDraggable={false}
          nodesConnectable={false}
          elementsSelectable={false}
          selectionKeyCode={null}
          multiSelectionKeyCode={null}
          deleteKeyCode={null}
          zoomOnDoubleClick={false}
          onlyRenderVisibleElements
          minZoom={0.02}
          maxZoom={3}
          attributionPosition="top-right"
          aria-label="Circuit graph"
        >
          {model && <EdgeCanvas model={model} mask={mask} highlight={highlight} nodes={nodeLayer} />}
          {model && <LaneLabels model={model} />}
          {model && <MiniMap pannable zoomable nodeColor={minimapColor} nodeStrokeWidth={0} ariaLabel="Minimap" style={MINIMAP_SIZE} />}
          <Controls showInteractive={false} showFitView={false} position="bottom-right" className="graph-controls">
            <ControlButton onClick={onFit} title="Fit the graph (F)" aria-label="Fit view">
              <svg viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
                <path d="M1 5V1h4M11 1h4v4M15 11v4h-4M5 15H1v-4" fill="none" stroke="currentColor" strokeWidth="1.6" />
              </svg>
            </ControlButton>
          </Controls>
          </ReactFlow>
        {box && (
          <div
            className="box-select"
            style={{ left: Math.min(box.x0, box.x1), top: Math.min(box.y0, box.y1), width: Math.abs(box.x1 - box.x0), height: Math.abs(box.y1 - box.y0) }}
          />
        )}
        {/* Read by keyboard shortcuts that need the current filter (select all visible). */}
        <VisibleIds ids={filter?.nodes} />
    </div>
    </VisibilityContext.Provider>
  );
}

/** Keeps the ids the filter shows where the keyboard handler can find them, without re-rendering. */
function VisibleIds({ ids }: { ids: ReadonlySet<string> | undefined }): null {
  useEffect(() => {
    visibleIds.current = ids ?? new Set();
  }, [ids]);
  return null;
}
export const visibleIds: { current: ReadonlySet<string> } = { current: new Set() };
