/**
 * Compare two circuits or two versions: one graph on A's lanes and columns where nodes in both,
 * only in A and only in B differ by border and tag (not by colour alone), edges coloured by
 * the weight change B − A, with the Jaccard overlap and the effect correlation.
 */
import React, { useId, useMemo } from 'react';
import { Controls, MiniMap, ReactFlow, ReactFlowProvider, useStore, type Edge, type Node } from '@xyflow/react';
import { edgeMask, buildFlowNodes, buildGraphModel, fitBounds, labelOf, type FlowNode } from '../../graph/model';
import { compareGraph } from '../../graph/compare';
import { useActions, useAppState } from '../../state/context';
import type { CircuitSummary, Comparison, StoredCircuit } from '../../state/types';
import { fmtNum, fmtSigned } from '../../util/format';
import { EdgeCanvas, farSelector } from '../graph/EdgeCanvas';
import { nodeTypes } from '../graph/FeatureNode';
import { MINIMAP_SIZE } from '../graph/GraphView';
import { Legend } from '../graph/Legend';
import { LaneLabels } from '../graph/LaneLabels';

const NO_EDGES: Edge[] = [];
const listKeys = (l: { key: string }[]): string => l.slice(0, 12).map((n) => n.key).join(', ') + (l.length > 12 ? `, and ${l.length - 12} more` : '');
const minimapColor = (n: Node): string => ((n.data as { fill?: string }).fill ?? '#ccc');
const versionName = (v: CircuitSummary): string => `${v.name} · v${v.id}${v.versionLabel ? ` “${v.versionLabel}”` : ''}${v.parentId ? '' : ' (discovered)'} · ${v.nodes} nodes`;

/** One side's choice of circuit version, with its visible label. */
function VersionSelect(p: { id: string; label: string; versions: CircuitSummary[]; value: number | null; onChange: (id: number | null) => void }): React.JSX.Element {
  return (
    <>
      <label htmlFor={p.id}>{p.label}</label>
      <select id={p.id} value={p.value ?? ''} onChange={(e) => p.onChange(e.target.value ? Number(e.target.value) : null)}>
        <option value="">choose…</option>
        {p.versions.map((v) => (
          <option key={v.id} value={v.id}>
            {versionName(v)}
          </option>
        ))}
      </select>
    </>
  );
}

export function CompareView(): React.JSX.Element {
  const actions = useActions();
  const library = useAppState((s) => s.library);
  const cmp = useAppState((s) => s.compare);
  const ids = { a: useId(), b: useId(), t: useId() };
  const versions = library?.circuits ?? [];
  return (
    <div className="view compare" data-testid="compare-view">
      <h2>Compare circuits</h2>
      <form
        className="row compare-form"
        onSubmit={(e) => {
          e.preventDefault();
          void actions.compare();
        }}
      >
        <VersionSelect id={ids.a} label="Circuit A" versions={versions} value={cmp.a} onChange={(v) => actions.setCompare({ a: v })} />
        <VersionSelect id={ids.b} label="Circuit B" versions={versions} value={cmp.b} onChange={(v) => actions.setCompare({ b: v })} />
        <label htmlFor={ids.t}>Node threshold</label>
        <input id={ids.t} type="number" min={0} step="any" value={cmp.threshold} onChange={(e) => actions.setCompare({ threshold: Math.max(0, Number(e.target.value) || 0) })} />
        <button type="submit" className="primary" disabled={cmp.a === null || cmp.b === null || cmp.loading}>
          Compare
        </button>
      </form>
      {cmp.loading && <p className="muted">Comparing…</p>}
      {cmp.error && (
        <p className="error" role="alert">
          {cmp.error}
        </p>
      )}
      {cmp.result && cmp.circuitA && cmp.circuitB && <CompareResult result={cmp.result} a={cmp.circuitA} b={cmp.circuitB} />}
    </div>
  );
}

/** Marks the graph `far` when zoomed out, so the canvas draws the nodes (as in the graph view). */
function FarWrap({ children }: { children: React.ReactNode }): React.JSX.Element {
  const far = useStore(farSelector);
  return <div className={`compare-flow${far ? ' far' : ''}`}>{children}</div>;
}

function CompareResult({ result, a, b }: { result: Comparison; a: StoredCircuit; b: StoredCircuit }): React.JSX.Element {
  const annotationText = useAppState((s) => s.annotationText);
  const { model, nodes, mask, bounds, layer } = useMemo(() => {
    const g = compareGraph(a, b, result);
    const model = buildGraphModel(g.circuit);
    const visible = new Set(g.circuit.nodes.map((n) => n.id));
    const nodes: FlowNode[] = buildFlowNodes(model, visible, { label: (n) => labelOf(n, annotationText), status: (id) => g.status.get(id) ?? null });
    return { model, nodes, mask: edgeMask(model, new Set(model.edgeKeys)), bounds: fitBounds(model, visible), layer: { visible: null, selection: new Set<string>(), status: g.status } };
  }, [a, b, result, annotationText]);
  const pct = (x: number | null): string => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
  return (
    <>
      <div className="compare-stats" data-testid="compare-stats">
        <div>
          <span className="stat-label">Jaccard (node overlap)</span>
          <span className="stat" data-testid="jaccard">
            {pct(result.jaccard)}
          </span>
        </div>
        <div>
          <span className="stat-label">Effect correlation (shared nodes)</span>
          <span className="stat" data-testid="correlation">
            {result.correlation === null ? '—' : result.correlation.toFixed(3)}
          </span>
        </div>
        <div>
          <span className="stat-label">In both</span>
          <span className="stat">{result.both.length}</span>
        </div>
        <div>
          <span className="stat-label">Only in A (dashed)</span>
          <span className="stat">{result.onlyA.length}</span>
        </div>
        <div>
          <span className="stat-label">Only in B (dotted)</span>
          <span className="stat">{result.onlyB.length}</span>
        </div>
      </div>
      {(result.onlyA.length > 0 || result.onlyB.length > 0) && (
        <dl className="only-lists">
          {result.onlyA.length > 0 && (
            <>
              <dt>Only in A</dt>
              <dd className="mono">{listKeys(result.onlyA)}</dd>
            </>
          )}
          {result.onlyB.length > 0 && (
            <>
              <dt>Only in B</dt>
              <dd className="mono">{listKeys(result.onlyB)}</dd>
            </>
          )}
        </dl>
      )}
      {result.warnings.map((w, i) => (
        <p key={i} className="warning">
          {w}
        </p>
      ))}
      <Legend maxEffect={model.maxAbsEffect} maxWeight={model.maxAbsWeight} compare />
      <div className="compare-graph" data-testid="compare-graph">
        <ReactFlowProvider>
          <FarWrap>
          <ReactFlow
            nodes={nodes}
            edges={NO_EDGES}
            nodeTypes={nodeTypes}
            nodesDraggable={false}
            nodesConnectable={false}
            elementsSelectable={false}
            onlyRenderVisibleElements
            minZoom={0.02}
            maxZoom={3}
            onInit={(inst) => void inst.fitBounds(bounds, { padding: 0.04 })}
            attributionPosition="top-right"
            aria-label="Comparison graph"
          >
            <EdgeCanvas model={model} mask={mask} highlight={null} nodes={layer} />
            <LaneLabels model={model} />
            <MiniMap pannable zoomable nodeColor={minimapColor} nodeStrokeWidth={0} ariaLabel="Minimap" style={MINIMAP_SIZE} />
            <Controls showInteractive={false} position="bottom-right" className="graph-controls" />
          </ReactFlow>
          </FarWrap>
        </ReactFlowProvider>
      </div>
      {result.changedEdges.length > 0 && (
        <table className="changed-edges">
          <caption className="muted">Edges that changed most (B − A)</caption>
          <thead>
            <tr>
              <th scope="col">source</th>
              <th scope="col">target</th>
              <th scope="col">A</th>
              <th scope="col">B</th>
              <th scope="col">change</th>
            </tr>
          </thead>
          <tbody>
            {result.changedEdges.map((e, i) => (
              <tr key={i}>
                <td className="mono">{e.source}</td>
                <td className="mono">{e.target}</td>
                <td>{e.inA ? fmtNum(e.weightA) : '—'}</td>
                <td>{e.inB ? fmtNum(e.weightB) : '—'}</td>
                <td className={e.delta < 0 ? 'neg' : 'pos'}>{fmtSigned(e.delta)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
