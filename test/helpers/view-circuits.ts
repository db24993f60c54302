/**
 * Synthetic circuits for the view-layer tests: random nodes over the Pythia-style submodules
 * (embed, attn_l, mlp_l, resid_l), summed or position-resolved, with edges between adjacent
 * submodules and to `y`, all from a seed.
 */
import type { CircuitEdge, CircuitFile, CircuitNode } from '../../src-main/circuits/circuit-file';
import { mulberry32, randn } from './random';

export type ViewCircuit = Pick<CircuitFile, 'submodules' | 'positions' | 'nodes' | 'edges'>;

export function submoduleNames(layers: number): string[] {
  const s = ['embed'];
  for (let l = 0; l < layers; l++) s.push(`attn_${l}`, `mlp_${l}`, `resid_${l}`);
  return s;
}

export function randomCircuit(opts: { seed: number; layers?: number; nodes: number; tokens?: string[] | null; features?: number; edgesPerNode?: number }): ViewCircuit {
  const rand = mulberry32(opts.seed);
  const names = submoduleNames(opts.layers ?? 3);
  const F = opts.features ?? 4096;
  const S = opts.tokens ? opts.tokens.length : 0;
  const nodes: CircuitNode[] = [];
  const ids = new Set<string>();
  while (nodes.length < opts.nodes) {
    const submodule = names[Math.floor(rand() * names.length)];
    const feature: number | 'error' = rand() < 0.08 ? 'error' : Math.floor(rand() * F);
    // Skew positions so cells differ a lot in size (like real circuits: the subject token is busy).
    const position = S ? Math.min(S - 1, Math.floor(S * rand() * rand() * 1.6)) : undefined;
    const id = `${submodule}/${feature}${position === undefined ? '' : `@${position}`}`;
    if (ids.has(id)) continue;
    ids.add(id);
    const effect = randn(rand) * (rand() < 0.1 ? 3 : 0.5);
    nodes.push(position === undefined ? { id, submodule, feature, effect } : { id, submodule, feature, position, effect });
  }
  const bySub = new Map<string, CircuitNode[]>();
  for (const n of nodes) bySub.set(n.submodule, [...(bySub.get(n.submodule) ?? []), n]);
  const edges: CircuitEdge[] = [];
  const seen = new Set<string>();
  const last = names[names.length - 1];
  for (const n of nodes) {
    if (n.submodule === last) edges.push({ source: n.id, target: 'y', weight: n.effect });
    const i = names.indexOf(n.submodule);
    const ups = names.slice(Math.max(0, i - 3), i).flatMap((s) => bySub.get(s) ?? []);
    for (let k = 0; k < (opts.edgesPerNode ?? 3) && ups.length; k++) {
      const u = ups[Math.floor(rand() * ups.length)];
      const key = `${u.id}->${n.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      edges.push({ source: u.id, target: n.id, weight: randn(rand) * 0.3 });
    }
  }
  return { submodules: names.map((name) => ({ name, features: F, kind: 'relu' })), positions: opts.tokens ?? null, nodes, edges };
}
