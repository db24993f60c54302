/**
 * Above the graph: node and edge threshold sliders (log scale), the search box, what each
 * filter hides with one click to reveal it, and Fit. Nothing is hidden silently.
 */
import React, { useCallback, useId } from 'react';
import { matchesSearch, type FilterResult } from '../../../../src-main/view';
import { SLIDER_STEPS, sliderToThreshold, thresholdToSlider } from '../../graph/model';
import { useActions, useAppState } from '../../state/context';
import { Legend } from './Legend';
import { SelectionBar } from './SelectionBar';
import { fmtNum, plural } from '../../util/format';

export function GraphToolbar({ filter }: { filter: FilterResult }): React.JSX.Element | null {
  const counts = filter.counts;
  const actions = useActions();
  const circuit = useAppState((s) => s.circuit);
  const nodeThreshold = useAppState((s) => s.nodeThreshold);
  const edgeThreshold = useAppState((s) => s.edgeThreshold);
  const search = useAppState((s) => s.search);
  const nodeId = useId();
  const edgeId = useId();
  const searchId = useId();

  const onNode = useCallback((e: React.ChangeEvent<HTMLInputElement>) => actions.setThreshold('node', sliderToThreshold(Number(e.target.value), circuit?.graph.maxAbsEffect ?? 0)), [actions, circuit]);
  // Enter in the search box goes to the strongest match (selected and centred).
  const annotationText = useAppState((s) => s.annotationText);
  const onSearchKey = useCallback(
    (e: React.KeyboardEvent<HTMLInputElement>) => {
      if (e.key !== 'Enter' || !circuit || !search.trim()) return;
      e.preventDefault();
      // An exact id wins; else the strongest node whose id or label contains the text.
      const q = search.trim();
      let best: { id: string; effect: number } | null = circuit.graph.nodeById.get(q) ?? null;
      for (const n of best ? [] : circuit.circuit.nodes) {
        if (!filter.nodes.has(n.id) || !matchesSearch(n, search, annotationText)) continue;
        if (!best || Math.abs(n.effect) > Math.abs(best.effect)) best = n;
      }
      if (best) actions.jumpTo(best.id);
      else actions.notify('info', `No shown node matches “${search.trim()}”.`);
    },
    [circuit, search, filter, annotationText, actions],
  );
  const onEdge = useCallback((e: React.ChangeEvent<HTMLInputElement>) => actions.setThreshold('edge', sliderToThreshold(Number(e.target.value), circuit?.graph.maxAbsWeight ?? 0)), [actions, circuit]);
  if (!circuit) return null;
  const { graph } = circuit;
  const hasEdges = circuit.circuit.edges !== null;
  const hiddenEdges = counts.edges.total - counts.edges.visible;

  return (
    <div className="graph-toolbar" role="toolbar" aria-label="Graph filters">
      <div className="filter">
        <label htmlFor={nodeId}>Node threshold</label>
        <input
          id={nodeId}
          type="range"
          min={0}
          max={SLIDER_STEPS}
          value={thresholdToSlider(nodeThreshold, graph.maxAbsEffect)}
          onChange={onNode}
          aria-valuetext={`|effect| > ${fmtNum(nodeThreshold)}`}
        />
        <output htmlFor={nodeId} data-testid="node-threshold">
          |effect| &gt; {fmtNum(nodeThreshold)}
        </output>
      </div>
      {hasEdges && (
        <div className="filter">
          <label htmlFor={edgeId}>Edge threshold</label>
          <input
            id={edgeId}
            type="range"
            min={0}
            max={SLIDER_STEPS}
            value={thresholdToSlider(edgeThreshold, graph.maxAbsWeight)}
            onChange={onEdge}
            aria-valuetext={`|weight| > ${fmtNum(edgeThreshold)}`}
          />
          <output htmlFor={edgeId} data-testid="edge-threshold">
            |weight| &gt; {fmtNum(edgeThreshold)}
          </output>
        </div>
      )}
      <div className="filter search">
        <label htmlFor={searchId}>Search nodes</label>
        <input id={searchId} type="search" value={search} placeholder="id or label" title="Filters the graph; Enter goes to the strongest match" onChange={(e) => actions.setSearch(e.target.value)} onKeyDown={onSearchKey} />
      </div>
      <button type="button" onClick={actions.fit} title="Fit the graph to the window (F)">
        Fit
      </button>
      <div className="counts" aria-live="polite">
        <span data-testid="visible-count">
          Showing {counts.nodes.visible} of {plural(counts.nodes.total, 'node')}
          {hasEdges ? ` · ${counts.edges.visible} of ${plural(counts.edges.total, 'edge')}` : ' · no edges in this circuit'}
        </span>
        {counts.nodes.hiddenByThreshold > 0 && (
          <button type="button" className="link" onClick={() => actions.setThreshold('node', 0)}>
            Show {counts.nodes.hiddenByThreshold} nodes under the threshold
          </button>
        )}
        {counts.nodes.hiddenBySearch > 0 && (
          <button type="button" className="link" onClick={() => actions.setSearch('')}>
            Show {counts.nodes.hiddenBySearch} nodes the search hides
          </button>
        )}
        {hiddenEdges > 0 && counts.edges.hiddenByThreshold > 0 && (
          <button type="button" className="link" onClick={() => actions.setThreshold('edge', 0)}>
            Show {counts.edges.hiddenByThreshold} edges under the threshold
          </button>
        )}
        {counts.edges.hiddenByEndpoint > 0 && <span className="muted"> {counts.edges.hiddenByEndpoint} edges hidden with their nodes</span>}
      </div>
      <Legend maxEffect={graph.maxAbsEffect} maxWeight={graph.maxAbsWeight} />
      <SelectionBar />
    </div>
  );
}
