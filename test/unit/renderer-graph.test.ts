/**
 * The editor's graph model (src-renderer/src/graph/): built once per circuit, filters on top
 * without relayout, React Flow nodes reused across filters, edges bucketed for the canvas,
 * hit-testing and fitting from the layout, the log-scale sliders, and the compare graph.
 */
import { describe, expect, it } from 'vitest';
import { filterCircuit, METRIC_NODE } from '../../src-main/view';
import {
  WIDTH_LEVELS,
  buildFlowNodes,
  buildGraphModel,
  chooseWrap,
  edgeMask,
  fitBounds,
  incidentMask,
  labelOf,
  nodeAt,
  nodesInRect,
  sliderToThreshold,
  thresholdToSlider,
  type FlowNode,
} from '../../src-renderer/src/graph/model';
import { compareGraph } from '../../src-renderer/src/graph/compare';
import { neuronpediaUrl } from '../../src-renderer/src/util/neuronpedia';
import { randomCircuit } from '../helpers/view-circuits';

const big = randomCircuit({ seed: 3, nodes: 2000, tokens: ['The', ' kings', ' near', ' the', ' clerk', ' that', ' the', ' farmers'], features: 512, edgesPerNode: 6 });
const small = randomCircuit({ seed: 5, nodes: 60, tokens: null, features: 64 });
const decor = { label: (n: { id: string }) => n.id };

describe('graph model', () => {
  it('places every node once, without overlaps, and edges from the top of the lower box to the bottom of the upper one', () => {
    const m = buildGraphModel(big);
    expect(m.layout.nodes.size).toBe(big.nodes.length + 1); // + the metric
    const boxes = [...m.layout.nodes.values()];
    // No two boxes overlap (sorted sweep over x).
    boxes.sort((a, b) => a.x - b.x);
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length && boxes[j].x < boxes[i].x + boxes[i].width; j++) {
        const a = boxes[i];
        const b = boxes[j];
        expect(a.y + a.height <= b.y || b.y + b.height <= a.y).toBe(true);
      }
    }
    const e = m.edges[0];
    const s = m.layout.nodes.get(e.source)!;
    const t = m.layout.nodes.get(e.target)!;
    expect([...m.edgeGeom.subarray(0, 4)]).toEqual([s.x + s.width / 2, s.y, t.x + t.width / 2, t.y + t.height].map(Math.fround));
    // Sources sit in lower lanes than their targets (rows go bottom → top).
    expect(s.row).toBeLessThan(t.row);
  });

  it('buckets edges by sign and |weight| (the canvas strokes one batch per bucket)', () => {
    const m = buildGraphModel(big);
    m.edges.forEach((e, i) => {
      const sign = Math.floor(m.edgeBucket[i] / WIDTH_LEVELS);
      expect(sign).toBe(e.weight > 0 ? 0 : e.weight < 0 ? 1 : 2);
    });
    const strongest = m.edges.reduce((best, e, i) => (Math.abs(e.weight) > Math.abs(m.edges[best].weight) ? i : best), 0);
    expect(m.edgeBucket[strongest] % WIDTH_LEVELS).toBe(WIDTH_LEVELS - 1);
    // Adjacency lists are ranked by |weight|.
    for (const l of m.incoming.values()) for (let i = 1; i < l.length; i++) expect(Math.abs(m.edges[l[i - 1]].weight)).toBeGreaterThanOrEqual(Math.abs(m.edges[l[i]].weight));
  });

  it('chooses a wrap that keeps the graph near the pane’s shape, and a later version can keep the same places', () => {
    const m = buildGraphModel(big);
    const { width, height } = m.layout.bounds;
    const unwrapped = buildGraphModel(big, { layoutOptions: {} }).layout.bounds;
    expect(Math.abs(Math.log(width / height / 1.5))).toBeLessThan(Math.abs(Math.log(unwrapped.width / unwrapped.height / 1.5)));
    expect(chooseWrap(big)).toBe(m.layout.options.wrap);
    // A pruned version reuses its parent's layout: no node moves.
    const pruned = { ...big, nodes: big.nodes.slice(100), edges: big.edges!.filter((e) => big.nodes.slice(100).some((n) => n.id === e.source)) };
    const m2 = buildGraphModel(pruned, { layout: m.layout });
    expect(m2.layout).toBe(m.layout);
    // A layout that lacks a node is not reused.
    const other = buildGraphModel(small, { layout: m.layout });
    expect(other.layout).not.toBe(m.layout);
  });
});

describe('filtering never relayouts', () => {
  it('edge mask and counts follow filterCircuit; positions stay put', () => {
    const m = buildGraphModel(big);
    const before = new Map([...m.layout.nodes].map(([id, b]) => [id, { x: b.x, y: b.y }]));
    for (const t of [0, 0.2, 0.6, 1.5]) {
      const f = filterCircuit(big, { nodeThreshold: t, edgeThreshold: 0.1 });
      const mask = edgeMask(m, f.edges);
      expect(mask.reduce((a, b) => a + b, 0)).toBe(f.counts.edges.visible);
      expect(f.counts.nodes.visible + f.counts.nodes.hiddenByThreshold).toBe(big.nodes.length);
      expect(big.nodes.filter((n) => Math.abs(n.effect) <= t).length).toBe(f.counts.nodes.hiddenByThreshold);
    }
    for (const [id, b] of m.layout.nodes) expect({ x: b.x, y: b.y }).toEqual(before.get(id));
  });

  it('React Flow nodes are built once and reused: a label change makes one new object', () => {
    const m = buildGraphModel(small);
    const a = buildFlowNodes(m, null, decor);
    expect(a).toHaveLength(small.nodes.length + 1);
    expect(a.every((n) => !n.hidden && n.width === m.layout.nodes.get(n.id)!.width)).toBe(true);
    const byId = new Map(a.map((n) => [n.id, n]));
    const again = buildFlowNodes(m, null, decor, byId);
    expect(again.every((n, i) => n === a[i])).toBe(true);
    const target = small.nodes[3].id;
    const relabelled = buildFlowNodes(m, null, { label: (n) => (n.id === target ? 'plural nouns' : n.id) }, byId);
    const changed = relabelled.filter((n, i) => n !== a[i]);
    expect(changed.map((n) => n.id)).toEqual([target]);
    expect((changed[0] as FlowNode).data.label).toBe('plural nouns');
    // Where React Flow itself must drop nodes, `visible` marks the rest hidden.
    const f = filterCircuit(small, { nodeThreshold: 0.5, edgeThreshold: 0 });
    const hidden = buildFlowNodes(m, f.nodes, decor).filter((n) => n.hidden);
    expect(hidden).toHaveLength(f.counts.nodes.hiddenByThreshold);
  });

  it('labels: circuit label, else annotation (position-free), else the id', () => {
    const n = { id: 'resid_2/31@4', submodule: 'resid_2', feature: 31 };
    expect(labelOf(n, new Map())).toBe('resid_2/31');
    expect(labelOf(n, new Map([['resid_2/31', 'plural nouns']]))).toBe('plural nouns');
    expect(labelOf(n, new Map([['resid_2/31', 'plural nouns']]), { 'resid_2/31@4': 'subject here' })).toBe('subject here');
    expect(labelOf({ id: 'mlp_0/error@1', submodule: 'mlp_0', feature: 'error' }, new Map())).toBe('mlp_0/ε');
  });
});

describe('selection and view helpers', () => {
  it('box select and hit-testing use the layout and skip hidden nodes', () => {
    const m = buildGraphModel(small);
    const all = new Set(small.nodes.map((n) => n.id));
    const first = small.nodes[0];
    const b = m.layout.nodes.get(first.id)!;
    expect(nodeAt(m, { x: b.x + 2, y: b.y + 2 }, all)).toBe(first.id);
    expect(nodeAt(m, { x: b.x + 2, y: b.y + 2 }, new Set())).toBe(null);
    const metric = m.layout.nodes.get(METRIC_NODE)!;
    expect(nodeAt(m, { x: metric.x + metric.width / 2, y: metric.y + metric.height / 2 }, all)).toBe(METRIC_NODE);
    const everything = nodesInRect(m, m.layout.bounds, all);
    expect(new Set(everything)).toEqual(all);
    expect(nodesInRect(m, { x: b.x, y: b.y, width: 1, height: 1 }, all)).toEqual([first.id]);
  });

  it('edges of the selection are highlighted; fit covers what is shown plus the token strip', () => {
    const m = buildGraphModel(big);
    const id = big.edges![0].source;
    const hl = incidentMask(m, [id])!;
    m.edges.forEach((e, i) => expect(hl[i]).toBe(e.source === id || e.target === id ? 1 : 0));
    expect(incidentMask(m, [])).toBe(null);
    const shown = new Set(big.nodes.slice(0, 10).map((n) => n.id));
    const f = fitBounds(m, shown);
    for (const sid of shown) {
      const b = m.layout.nodes.get(sid)!;
      expect(b.x >= f.x && b.y >= f.y && b.x + b.width <= f.x + f.width && b.y + b.height <= f.y + f.height).toBe(true);
    }
    expect(f.y + f.height).toBeGreaterThanOrEqual(m.layout.tokenY! + m.layout.options.tokenHeight);
  });

  it('the threshold sliders are log-scaled, 0 meaning everything, and round-trip', () => {
    expect(sliderToThreshold(0, 3)).toBe(0);
    expect(sliderToThreshold(1000, 3)).toBeCloseTo(3, 2);
    expect(sliderToThreshold(500, 3)).toBeCloseTo(0.03, 4);
    for (const pos of [1, 137, 500, 999]) expect(Math.abs(thresholdToSlider(sliderToThreshold(pos, 2.4), 2.4) - pos)).toBeLessThanOrEqual(1);
    expect(thresholdToSlider(0, 2)).toBe(0);
    expect(sliderToThreshold(300, 0)).toBe(0);
  });
});

describe('compare graph', () => {
  it('keeps A’s nodes plus B’s own, marks each, and gives edges the change B − A', () => {
    const a = small;
    const dropped = a.nodes.slice(0, 3).map((n) => n.id);
    const b = { ...a, nodes: [...a.nodes.slice(3), { id: 'attn_1/9999', submodule: 'attn_1', feature: 9999, effect: 0.9 }], edges: a.edges!.filter((e) => !dropped.includes(e.source) && !dropped.includes(e.target)).map((e, i) => (i === 0 ? { ...e, weight: e.weight + 1 } : e)) };
    const key = (n: { id: string }) => ({ key: n.id });
    const sets = { both: a.nodes.slice(3).map(key), onlyA: a.nodes.slice(0, 3).map(key), onlyB: [{ key: 'attn_1/9999' }] };
    const g = compareGraph(a, b, sets);
    expect(g.circuit.nodes).toHaveLength(a.nodes.length + 1);
    expect(dropped.map((id) => g.status.get(id))).toEqual(['onlyA', 'onlyA', 'onlyA']);
    expect(g.status.get('attn_1/9999')).toBe('onlyB');
    const changed = g.circuit.edges!.filter((e) => e.weight !== 0);
    const removed = a.edges!.filter((e) => dropped.includes(e.source) || dropped.includes(e.target));
    expect(changed).toHaveLength(removed.length + 1);
    expect(changed.find((e) => e.source === b.edges![0].source && e.target === b.edges![0].target)!.weight).toBeCloseTo(1, 9);
  });
});

describe('Neuronpedia links', () => {
  it('only for SAE sets whose Neuronpedia ids the engine knows, and only their submodules', () => {
    const links = { modelId: 'pythia-70m-deduped', release: 'p70d-sm', saeIds: { resid_3: '3-res-sm' }, featureUrl: 'https://www.neuronpedia.org/pythia-70m-deduped/{saeId}/{feature}' };
    expect(neuronpediaUrl(null, 'resid_3', 12)).toBe(null);
    expect(neuronpediaUrl(links, 'resid_3', 12)).toBe('https://www.neuronpedia.org/pythia-70m-deduped/3-res-sm/12');
    expect(neuronpediaUrl(links, 'attn_3', 12)).toBe(null);
  });
});
