/**
 * layoutCircuit: lanes by submodule in model order (embed at the bottom, y on top), columns by
 * token, cells sorted by |effect|, column widths by the fullest cell, no overlaps, deterministic
 * and cheap. Expected values are recomputed by brute force from the circuit, not from the layout.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LAYOUT, layoutCircuit, type CircuitLayout, type NodeBox } from '../../src-main/view/layout';
import { METRIC_NODE } from '../../src-main/view/names';
import { randomCircuit, submoduleNames, type ViewCircuit } from '../helpers/view-circuits';
import { mulberry32 } from '../helpers/random';

const TOKENS = ['The', ' painter', ' behind', ' the', ' guards'];

function overlaps(a: NodeBox, b: NodeBox): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function expectNoOverlap(l: CircuitLayout): void {
  const boxes = [...l.nodes.entries()];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      if (overlaps(boxes[i][1], boxes[j][1])) throw new Error(`${boxes[i][0]} overlaps ${boxes[j][0]}`);
    }
  }
}

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const rand = mulberry32(seed);
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

describe('layoutCircuit', () => {
  const pos = randomCircuit({ seed: 1, nodes: 300, tokens: TOKENS });
  const sum = randomCircuit({ seed: 2, nodes: 150, tokens: null });

  it('puts lanes in model order, embed at the bottom and the metric on top', () => {
    const l = layoutCircuit(pos);
    expect(l.rows.map((r) => r.submodule)).toEqual([...submoduleNames(3), METRIC_NODE]);
    // Bottom → top means y decreases strictly along the model order.
    for (let i = 1; i < l.rows.length; i++) expect(l.rows[i].y + l.rows[i].height).toBeLessThan(l.rows[i - 1].y);
    const y = l.nodes.get(METRIC_NODE)!;
    for (const n of pos.nodes) expect(l.nodes.get(n.id)!.y).toBeGreaterThan(y.y);
    const embed = pos.nodes.filter((n) => n.submodule === 'embed').map((n) => l.nodes.get(n.id)!.y);
    const others = pos.nodes.filter((n) => n.submodule !== 'embed').map((n) => l.nodes.get(n.id)!.y);
    expect(Math.min(...embed)).toBeGreaterThan(Math.max(...others));
  });

  it('orders lanes by the model even when the submodule list is shuffled', () => {
    const l = layoutCircuit({ ...pos, submodules: shuffled(pos.submodules, 9) });
    expect(l.rows.map((r) => r.submodule)).toEqual([...submoduleNames(3), METRIC_NODE]);
  });

  it('places every node in its submodule lane and its token column, tokens underneath', () => {
    const l = layoutCircuit(pos);
    expect(l.columns.map((c) => c.token)).toEqual(TOKENS);
    expect(l.columns.map((c) => c.position)).toEqual([0, 1, 2, 3, 4]);
    for (const n of pos.nodes) {
      const b = l.nodes.get(n.id)!;
      const row = l.rows[b.row];
      const col = l.columns[b.column];
      expect(row.submodule).toBe(n.submodule);
      expect(col.position).toBe(n.position);
      expect(b.y).toBeGreaterThanOrEqual(row.y);
      expect(b.y + b.height).toBeLessThanOrEqual(row.y + row.height + 1e-9);
      expect(b.x).toBeGreaterThanOrEqual(col.x - 1e-9);
      expect(b.x + b.width).toBeLessThanOrEqual(col.x + col.width + 1e-9);
    }
    // The token strip is under the lowest lane, inside the bounds.
    expect(l.tokenY!).toBeGreaterThan(l.rows[0].y + l.rows[0].height);
    expect(l.tokenY! + DEFAULT_LAYOUT.tokenHeight).toBeLessThanOrEqual(l.bounds.height);
    // y sits above the last token's column.
    expect(l.nodes.get(METRIC_NODE)!.column).toBe(TOKENS.length - 1);
  });

  it('gives a summed circuit one column and no tokens', () => {
    const l = layoutCircuit(sum);
    expect(l.columns).toHaveLength(1);
    expect(l.columns[0]).toMatchObject({ position: null, token: null });
    expect(l.tokenY).toBeNull();
    for (const n of sum.nodes) expect(l.nodes.get(n.id)!.column).toBe(0);
  });

  it('sorts each cell by |effect| descending, left to right', () => {
    const l = layoutCircuit(pos);
    const cells = new Map<string, { x: number; abs: number }[]>();
    for (const n of pos.nodes) {
      const k = `${n.submodule}@${n.position}`;
      cells.set(k, [...(cells.get(k) ?? []), { x: l.nodes.get(n.id)!.x, abs: Math.abs(n.effect) }]);
    }
    let checked = 0;
    for (const cell of cells.values()) {
      cell.sort((a, b) => a.x - b.x);
      for (let i = 1; i < cell.length; i++) expect(cell[i].abs).toBeLessThanOrEqual(cell[i - 1].abs);
      checked += cell.length > 1 ? 1 : 0;
    }
    expect(checked).toBeGreaterThan(5);
  });

  it('makes each column as wide as the most nodes any lane has at that token', () => {
    const o = { nodeWidth: 100, gapX: 10 };
    const l = layoutCircuit(pos, o);
    for (let p = 0; p < TOKENS.length; p++) {
      const counts = new Map<string, number>();
      for (const n of pos.nodes) if (n.position === p) counts.set(n.submodule, (counts.get(n.submodule) ?? 0) + 1);
      const most = Math.max(1, ...counts.values());
      expect(l.columns[p].width).toBe(most * 110 - 10);
    }
    // Column widths differ (the busy subject token is wider), so the rule is really applied.
    expect(new Set(l.columns.map((c) => c.width)).size).toBeGreaterThan(1);
  });

  it('never overlaps, also when wide cells wrap into several lines', () => {
    expectNoOverlap(layoutCircuit(pos));
    expectNoOverlap(layoutCircuit(sum));
    const w = layoutCircuit(sum, { wrap: 4 });
    expectNoOverlap(w);
    expect(w.columns[0].width).toBe(4 * (DEFAULT_LAYOUT.nodeWidth + DEFAULT_LAYOUT.gapX) - DEFAULT_LAYOUT.gapX);
    // A lane with k nodes needs ceil(k / 4) lines.
    for (const r of w.rows) {
      const k = sum.nodes.filter((n) => n.submodule === r.submodule).length + (r.submodule === METRIC_NODE ? 1 : 0);
      const lines = Math.max(1, Math.ceil(k / 4));
      expect(r.height).toBe(lines * (DEFAULT_LAYOUT.nodeHeight + DEFAULT_LAYOUT.gapY) - DEFAULT_LAYOUT.gapY);
    }
    // Every box lies inside the bounds.
    for (const b of w.nodes.values()) {
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width).toBeLessThanOrEqual(w.bounds.width);
      expect(b.y + b.height).toBeLessThanOrEqual(w.bounds.height);
    }
  });

  it('is deterministic: the same positions whatever the order of nodes in the file', () => {
    // Ties in |effect| are broken by id, so include some.
    const tied: ViewCircuit = { ...pos, nodes: pos.nodes.map((n, i) => (i % 5 === 0 ? { ...n, effect: 0.25 } : n)) };
    const a = layoutCircuit(tied);
    const b = layoutCircuit({ ...tied, nodes: shuffled(tied.nodes, 4) });
    expect([...b.nodes.entries()].sort()).toEqual([...a.nodes.entries()].sort());
    expect(b.rows).toEqual(a.rows);
    expect(b.columns).toEqual(a.columns);
  });

  it('keeps empty lanes unless asked, and places the metric only when asked', () => {
    const only = randomCircuit({ seed: 3, nodes: 6, tokens: null });
    only.nodes = only.nodes.map((n) => ({ ...n, submodule: 'mlp_1', id: `mlp_1/${n.feature}` }));
    expect(layoutCircuit(only).rows).toHaveLength(11);
    const compact = layoutCircuit(only, { includeEmptyRows: false, metric: false });
    expect(compact.rows.map((r) => r.submodule)).toEqual(['mlp_1']);
    expect(compact.nodes.has(METRIC_NODE)).toBe(false);
  });

  it('lays out 2 000 nodes in a few milliseconds', () => {
    const big = randomCircuit({ seed: 5, layers: 6, nodes: 2000, tokens: Array.from({ length: 12 }, (_, i) => `t${i}`) });
    layoutCircuit(big); // warm-up (JIT)
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const l = layoutCircuit(big);
      times.push(performance.now() - t0);
      expect(l.nodes.size).toBe(2001);
    }
    times.sort((a, b) => a - b);
    // Generous for a shared CI machine; a quadratic layout takes far longer at this size.
    expect(times[2]).toBeLessThan(40);
  });
});
