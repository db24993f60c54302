/**
 * Symbolic reverse-mode autodiff: walk the graph backwards from the outputs, ask each op's VJP
 * rule (ops.ts) for its inputs' cotangents, sum where paths meet. The result is more graph.
 */
import type { Graph, Sym } from './graph';
import { OPS } from './ops';

export interface GradOptions {
  /** Cotangents carry a leading probe dimension named this (e.g. 'P'). */
  probe?: string;
}

/**
 * Adds cotangent inputs `d_<name>` for each output (shape [P?, ...output]) and returns the
 * gradient of Σ outputs·cotangents with respect to each `wrt` (null where nothing flows).
 */
export function grad(
  graph: Graph,
  outputs: { name: string; sym: Sym }[],
  wrt: Sym[],
  opts: GradOptions = {},
): (Sym | null)[] {
  const probe = opts.probe !== undefined;
  const cot = new Map<number, Sym>();
  const accumulate = (s: Sym, g: Sym): void => {
    const prev = cot.get(s.id);
    cot.set(s.id, prev ? prev.add(g) : g);
  };
  for (const o of outputs) {
    const shape = probe ? [opts.probe!, ...o.sym.shape] : o.sym.shape;
    accumulate(o.sym, graph.input(`d_${o.name}`, 'float32', shape));
  }

  // Only nodes that both depend on a wrt and feed an output need a rule.
  const wrtIds = new Set(wrt.map((w) => w.id));
  const needed = new Set<number>();
  for (const n of graph.nodes) {
    if (wrtIds.has(n.id) || (n.op !== 'StopGrad' && n.inputs.some((x) => needed.has(x.id)))) needed.add(n.id);
  }

  const last = Math.max(...outputs.map((o) => o.sym.id));
  for (let id = last; id >= 0; id--) {
    const node = graph.nodes[id];
    const g = cot.get(id);
    if (!g || !needed.has(id) || node.inputs.length === 0) continue;
    const gs = OPS[node.op].vjp(g, node, probe);
    node.inputs.forEach((x, i) => {
      const gi = gs[i];
      if (gi && needed.has(x.id)) accumulate(x, gi);
    });
  }
  return wrt.map((w) => cot.get(w.id) ?? null);
}
