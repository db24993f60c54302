/**
 * compareCircuits on two small hand-made circuits; Jaccard and Pearson worked out by hand below.
 */
import { describe, expect, it } from 'vitest';
import { compareCircuits, pearson } from '../../src-main/view/compare';
import type { ViewCircuit } from '../helpers/view-circuits';

const subs = ['embed', 'attn_0', 'mlp_0', 'resid_0'].map((name) => ({ name, features: 64, kind: 'relu' as const }));

// A (threshold 0.1): kept resid_0/1 (1), resid_0/2 (2), mlp_0/3 (3), attn_0/7 (−0.5); mlp_0/4 is under it.
const A: ViewCircuit = {
  submodules: subs,
  positions: null,
  nodes: [
    { id: 'resid_0/1', submodule: 'resid_0', feature: 1, effect: 1 },
    { id: 'resid_0/2', submodule: 'resid_0', feature: 2, effect: 2 },
    { id: 'mlp_0/3', submodule: 'mlp_0', feature: 3, effect: 3 },
    { id: 'attn_0/7', submodule: 'attn_0', feature: 7, effect: -0.5 },
    { id: 'mlp_0/4', submodule: 'mlp_0', feature: 4, effect: 0.05 },
  ],
  edges: [
    { source: 'mlp_0/3', target: 'resid_0/1', weight: 0.5 },
    { source: 'attn_0/7', target: 'resid_0/2', weight: -0.2 },
    { source: 'resid_0/1', target: 'y', weight: 1 },
  ],
};
// B spells its ids differently (matching is on submodule, feature, position): kept resid_0/1 (2),
// resid_0/2 (4), mlp_0/3 (5), embed/9 (0.7), mlp_0/4 (0.3); attn_0/7 is under the threshold.
const B: ViewCircuit = {
  submodules: subs,
  positions: null,
  nodes: [
    { id: 'n1', submodule: 'resid_0', feature: 1, effect: 2 },
    { id: 'n2', submodule: 'resid_0', feature: 2, effect: 4 },
    { id: 'n3', submodule: 'mlp_0', feature: 3, effect: 5 },
    { id: 'n9', submodule: 'embed', feature: 9, effect: 0.7 },
    { id: 'n4', submodule: 'mlp_0', feature: 4, effect: 0.3 },
    { id: 'n7', submodule: 'attn_0', feature: 7, effect: 0.01 },
  ],
  edges: [
    { source: 'n3', target: 'n1', weight: 0.45 },
    { source: 'n9', target: 'n1', weight: 0.9 },
    { source: 'n1', target: 'y', weight: 2 },
  ],
};

describe('compareCircuits', () => {
  const r = compareCircuits(A, B, { threshold: 0.1 });

  it('splits nodes into only-A, only-B and both, matched on (submodule, feature, position)', () => {
    expect(r.both.map((n) => n.key).sort()).toEqual(['mlp_0/3', 'resid_0/1', 'resid_0/2']);
    expect(r.onlyA.map((n) => n.key)).toEqual(['attn_0/7']);
    expect(r.onlyB.map((n) => n.key)).toEqual(['embed/9', 'mlp_0/4']); // by |effect|: 0.7, 0.3
    expect(r.both.find((n) => n.key === 'mlp_0/3')).toMatchObject({ effectA: 3, effectB: 5, position: null });
  });

  it('Jaccard = |both| / |union| = 3 / 6', () => {
    expect(r.jaccard).toBe(0.5);
  });

  it('Pearson over the shared effects, by hand', () => {
    // x = (1, 2, 3), y = (2, 4, 5): means 2 and 11/3; Σdxdy = 3, Σdx² = 2, Σdy² = 14/3;
    // r = 3 / √(2 · 14/3) = 3 / √(28/3).
    expect(r.correlation).toBeCloseTo(3 / Math.sqrt(28 / 3), 12);
    expect(r.correlation).toBeCloseTo(0.98198, 5);
  });

  it('ranks edges by how much their weight changed (missing = 0)', () => {
    expect(r.changedEdges.map((e) => [e.source, e.target, Number(e.delta.toFixed(6))])).toEqual([
      ['resid_0/1', 'y', 1], // 1 → 2
      ['embed/9', 'resid_0/1', 0.9], // only in B
      ['attn_0/7', 'resid_0/2', 0.2], // only in A: −0.2 → 0
      ['mlp_0/3', 'resid_0/1', -0.05], // 0.5 → 0.45
    ]);
    expect(r.changedEdges[1]).toMatchObject({ inA: false, inB: true, weightA: 0, weightB: 0.9 });
    expect(compareCircuits(A, B, { threshold: 0.1, topEdges: 2 }).changedEdges).toHaveLength(2);
  });

  it('a circuit compared with itself: Jaccard 1, correlation 1, no changed edge', () => {
    const s = compareCircuits(A, A, { threshold: 0.1 });
    expect(s.jaccard).toBe(1);
    expect(s.correlation).toBeCloseTo(1, 12);
    expect(s.onlyA).toEqual([]);
    expect(s.changedEdges).toEqual([]);
  });

  it('keeps positions apart and warns when one circuit is summed and the other not', () => {
    const P: ViewCircuit = { ...A, positions: ['The', ' key'], nodes: A.nodes.map((n) => ({ ...n, id: `${n.id}@1`, position: 1 })), edges: null };
    const m = compareCircuits(A, P, { threshold: 0.1 });
    expect(m.both).toEqual([]);
    expect(m.jaccard).toBe(0);
    expect(m.warnings[0]).toMatch(/position-resolved/);
    expect(compareCircuits(P, P, { threshold: 0.1 }).both.map((n) => n.key)).toContain('resid_0/1@1');
  });

  it('reports no Jaccard for two empty sets and no correlation with fewer than two shared nodes', () => {
    const e = compareCircuits(A, B, { threshold: 100 });
    expect(e.jaccard).toBeNull();
    expect(e.correlation).toBeNull();
    expect(pearson([1, 2], [3, 3])).toBeNull();
    expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
  });
});
