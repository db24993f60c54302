/**
 * filterCircuit: what is shown, and how many nodes and edges each filter hides, checked against a
 * brute-force count written independently over the raw node and edge lists.
 */
import { describe, expect, it } from 'vitest';
import { filterCircuit } from '../../src-main/view/filter';
import { randomCircuit } from '../helpers/view-circuits';

const circuit = randomCircuit({ seed: 11, nodes: 400, tokens: ['The', ' keys', ' to', ' the', ' cabinet'], edgesPerNode: 4 });
const annotations = new Map([
  ['resid_2/' + String(circuit.nodes.find((n) => n.submodule === 'resid_2' && n.feature !== 'error')!.feature), 'Promotes PLURAL verbs'],
]);

/** Straight from the definitions in src-main/view/filter.ts, one predicate per node. */
function bruteForce(nodeT: number, edgeT: number, search: string, pinned: Set<string>) {
  const q = search.toLowerCase();
  const label = (id: string): string => annotations.get(id.split('@')[0]) ?? '';
  const matches = (id: string): boolean => q === '' || id.toLowerCase().indexOf(q) >= 0 || label(id).toLowerCase().indexOf(q) >= 0;
  const shown = circuit.nodes.filter((n) => pinned.has(n.id) || (matches(n.id) && Math.abs(n.effect) > nodeT)).map((n) => n.id);
  const bySearch = circuit.nodes.filter((n) => !pinned.has(n.id) && !matches(n.id)).length;
  const byThreshold = circuit.nodes.filter((n) => !pinned.has(n.id) && matches(n.id) && !(Math.abs(n.effect) > nodeT)).length;
  const isShown = (id: string): boolean => id === 'y' || shown.includes(id);
  const edgesShown = circuit.edges!.filter((e) => isShown(e.source) && isShown(e.target) && Math.abs(e.weight) > edgeT);
  const byEndpoint = circuit.edges!.filter((e) => !isShown(e.source) || !isShown(e.target)).length;
  const eByThreshold = circuit.edges!.filter((e) => isShown(e.source) && isShown(e.target) && !(Math.abs(e.weight) > edgeT)).length;
  return { shown, bySearch, byThreshold, edgesShown: edgesShown.map((e) => `${e.source}->${e.target}`), byEndpoint, eByThreshold };
}

describe('filterCircuit', () => {
  const pinned = new Set(circuit.nodes.filter((_, i) => i % 37 === 0).map((n) => n.id));
  const cases: [number, number, string, Set<string>][] = [
    [0, 0, '', new Set()],
    [0.3, 0.1, '', new Set()],
    [0.3, 0.1, '', pinned],
    [1.0, 0.2, 'resid', pinned],
    [0.1, 0.05, '@1', new Set()],
    [0.2, 0, 'plural', pinned], // matches an annotation, not an id
    [0.2, 0, 'ERROR', new Set()], // case-insensitive
    [1e9, 1e9, '', pinned],
  ];
  it.each(cases)('node T %s, edge T %s, search %j: counts match a brute-force count', (nodeT, edgeT, search, pin) => {
    const r = filterCircuit(circuit, { nodeThreshold: nodeT, edgeThreshold: edgeT, search, pinned: pin, annotations });
    const b = bruteForce(nodeT, edgeT, search, pin);
    expect([...r.nodes].sort()).toEqual([...b.shown].sort());
    expect([...r.edges].sort()).toEqual([...b.edgesShown].sort());
    expect(r.counts.nodes).toEqual({ total: circuit.nodes.length, visible: b.shown.length, hiddenByThreshold: b.byThreshold, hiddenBySearch: b.bySearch });
    expect(r.counts.edges).toEqual({ total: circuit.edges!.length, visible: b.edgesShown.length, hiddenByThreshold: b.eByThreshold, hiddenByEndpoint: b.byEndpoint });
  });

  it('the cases exercise every count (so the comparison above means something)', () => {
    const r1 = filterCircuit(circuit, { nodeThreshold: 0.3, edgeThreshold: 0.1, search: 'resid', pinned });
    expect(r1.counts.nodes.hiddenByThreshold).toBeGreaterThan(0);
    expect(r1.counts.nodes.hiddenBySearch).toBeGreaterThan(0);
    expect(r1.counts.edges.hiddenByThreshold).toBeGreaterThan(0);
    expect(r1.counts.edges.hiddenByEndpoint).toBeGreaterThan(0);
    const plural = filterCircuit(circuit, { nodeThreshold: 0, edgeThreshold: 0, search: 'plural', annotations });
    expect(plural.counts.nodes.visible).toBe(1);
  });

  it('never hides pinned nodes, whatever the thresholds and search', () => {
    const r = filterCircuit(circuit, { nodeThreshold: 1e9, edgeThreshold: 1e9, search: 'no such text', pinned });
    expect(r.nodes).toEqual(pinned);
    expect(r.counts.nodes.hiddenBySearch).toBe(circuit.nodes.length - pinned.size);
    expect(r.counts.nodes.hiddenByThreshold).toBe(0);
  });

  it('treats the metric y as always shown and a nodes-only circuit as edgeless', () => {
    const last = circuit.nodes.find((n) => n.submodule === 'resid_2')!;
    const r = filterCircuit(circuit, { nodeThreshold: 0, edgeThreshold: 0, pinned: new Set([last.id]), search: last.id });
    expect(r.edges.has(`${last.id}->y`)).toBe(true);
    const none = filterCircuit({ nodes: circuit.nodes, edges: null }, { nodeThreshold: 0, edgeThreshold: 0 });
    expect(none.counts.edges).toEqual({ total: 0, visible: 0, hiddenByThreshold: 0, hiddenByEndpoint: 0 });
  });
});
