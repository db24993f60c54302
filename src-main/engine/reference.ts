/**
 * Evaluates a graph in float64 with the plain reference arithmetic of nd64.ts: the independent
 * check for the ONNX path and the ground truth for finite differences.
 */
import type { Graph } from './graph';
import type { Nd } from './nd64';
import { OPS } from './ops';

export function evalGraph64(graph: Graph, feeds: Record<string, Nd>, only?: string[]): Record<string, Nd> {
  const vals = new Map<number, Nd>();
  const outputs = only ? graph.outputs.filter((o) => only.includes(o.name)) : graph.outputs;
  const last = Math.max(...outputs.map((o) => o.sym.id));
  for (const n of graph.nodes) {
    if (n.id > last) break;
    if (n.op === 'Input') {
      const name = n.attrs.name as string;
      const v = feeds[name];
      if (v) vals.set(n.id, v);
      continue;
    }
    const xs = n.inputs.map((x) => vals.get(x.id));
    if (xs.some((x) => !x)) continue; // depends on an input that was not fed
    vals.set(n.id, OPS[n.op].eval(xs as Nd[], n.attrs, n));
  }
  const out: Record<string, Nd> = {};
  for (const o of outputs) {
    const v = vals.get(o.sym.id);
    if (!v) throw new Error(`evalGraph64: output '${o.name}' needs inputs that were not fed`);
    out[o.name] = v;
  }
  return out;
}
