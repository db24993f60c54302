/**
 * What a discovery costs: the FLOPs the method cannot avoid (the dense SAE encoders on clean and
 * patch inputs, and IG's forward and backward passes from each hook point to the end), and the
 * machine's MatMul rate measured through the same session path. The benchmark reports runs as
 * a multiple of this floor (docs/performance.md); the app's estimate scales it by the measured
 * multiple (docs/store.md, "Estimates").
 */
import { Graph } from '../engine/graph';
import type { SessionCache } from '../engine/session';
import { Tensor } from '../engine/tensor';
import { layerOf } from '../models/hooks';

export interface CostShape {
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  /** Submodules with SAEs and their feature counts. */
  features: { submodule: string; f: number }[];
}

/** Floor FLOPs of a discovery over `tokens` clean tokens (patch inputs have as many) of length `seqLen`. */
export function discoveryFlops(s: CostShape, tokens: number, seqLen: number, steps: number): number {
  const D = s.hiddenSize;
  const I = s.intermediateSize;
  let flops = 0;
  for (const { f } of s.features) flops += 2 * tokens * 2 * D * f; // encoder, clean and patch
  const layerFwd = 8 * D * D + 4 * seqLen * D + 4 * D * I;
  const layerBwd = 8 * D * D + 8 * seqLen * D + 4 * D * I;
  for (const { submodule } of s.features) {
    const after = s.numLayers - 1 - (submodule === 'embed' ? -1 : layerOf(submodule)); // layers after the hook
    flops += steps * tokens * after * (layerFwd + layerBwd);
  }
  return flops;
}

/**
 * GFLOP/s of an [rows, d] × [d, f] MatMul (the SAE encoder's shape) on this machine, through
 * onnxruntime as the jobs run it. The default is small (~1 GFLOP a run, tens of ms).
 */
export async function matmulRate(
  sessions: SessionCache,
  shape: { rows: number; d: number; f: number } = { rows: 256, d: 512, f: 4096 },
  reps = 5,
  /** 'best': what the machine can do (the estimate); 'mean': over the reps (the benchmark's runs so far). */
  pick: 'best' | 'mean' = 'best',
): Promise<number> {
  const { rows, d, f } = shape;
  const g = new Graph();
  const x = g.input('x', 'float32', ['N', d]);
  const w = g.input('w', 'float32', [d, f]);
  g.output('y', x.matmul(w));
  const s = await sessions.get(`rate:matmul:${d}x${f}`, () => g);
  const feeds = { x: Tensor.from(new Float32Array(rows * d).fill(0.01), [rows, d]), w: Tensor.from(new Float32Array(d * f).fill(0.01), [d, f]) };
  await s.run(feeds); // warm-up: first runs allocate
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await s.run(feeds);
    times.push(performance.now() - t0);
  }
  const ms = pick === 'best' ? Math.min(...times) : times.reduce((a, b) => a + b, 0) / reps;
  return (2 * rows * d * f) / (ms / 1000) / 1e9;
}
