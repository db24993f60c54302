/**
 * Walking the model from a hook point: forward with a replaced activation (reusing the clean
 * prefix), and backward from the metric to a hook point through the segment VJPs.
 */
import { Tensor } from '../engine/tensor';
import type { Batch, F32, NeoxModel } from '../models/neox-model';
import { add3 } from '../models/neox-model';
import { EMBED, kindOf, layerInputHook, layerOf, siblingHook } from '../models/hooks';

// Hook names are owned by models/hooks.ts; re-exported for the modules that import them from here.
export { kindOf, layerOf };

/** Input of layer l (h_l): embed for l = 0, else resid_{l-1}. */
export function layerInput(acts: Map<string, F32>, l: number): F32 {
  const h = acts.get(layerInputHook(l));
  if (!h) throw new Error(`activation cache has no input for layer ${l}`);
  return h;
}

/** Repeats a tensor n times along axis 0 (step-major: copy k holds rows k·B … k·B+B−1). */
export function tile<T extends Tensor>(t: T, n: number): T {
  if (n === 1) return t;
  const C = t.data.constructor as { new (len: number): typeof t.data };
  const data = new C(t.data.length * n);
  for (let k = 0; k < n; k++) (data as Float32Array).set(t.data as Float32Array, k * t.data.length);
  return new Tensor(data, [t.shape[0] * n, ...t.shape.slice(1)]) as T;
}

export function tileBatch(b: Batch, n: number): Batch {
  if (n === 1) return b;
  return { tokens: tile(b.tokens, n), mask: tile(b.mask, n), bias: tile(b.bias, n), cos: b.cos, sin: b.sin, last: tile(b.last, n) };
}

/** Rows [b0, b1) of a batch (examples), for per-example VJPs. */
export function sliceBatch(b: Batch, b0: number, b1: number): Batch {
  return { tokens: rows(b.tokens, b0, b1), mask: rows(b.mask, b0, b1), bias: rows(b.bias, b0, b1), cos: b.cos, sin: b.sin, last: rows(b.last, b0, b1) };
}

export function rows<T extends Tensor>(t: T, r0: number, r1: number): T {
  const per = t.size / t.shape[0];
  return new Tensor(t.data.subarray(r0 * per, r1 * per), [r1 - r0, ...t.shape.slice(1)]) as T;
}

/**
 * Forward from hook `name` with its activation replaced by x ([N,S,D], N = copies·B), the other
 * inputs of that layer taken from the clean cache (tiled to N). Returns the input h_j of every
 * layer from the hook's layer on, and h_L.
 */
export async function forwardFrom(
  model: NeoxModel,
  batch: Batch,
  clean: Map<string, F32>,
  name: string,
  x: F32,
): Promise<{ hs: Map<number, F32>; hL: F32 }> {
  const n = x.shape[0] / clean.get(EMBED)!.shape[0];
  const l = layerOf(name);
  const kind = kindOf(name);
  const hs = new Map<number, F32>();
  let h: F32;
  let start: number;
  if (kind === 'embed') {
    h = x;
    start = 0;
  } else if (kind === 'resid') {
    h = x;
    start = l + 1;
  } else {
    const hl = tile(layerInput(clean, l), n);
    hs.set(l, hl);
    const other = tile(clean.get(siblingHook(name))!, n);
    h = add3(hl, x, other);
    start = l + 1;
  }
  for (let j = start; j < model.cfg.numLayers; j++) {
    hs.set(j, h);
    h = add3(h, await model.attn(j, batch, h), await model.mlp(j, h));
  }
  return { hs, hL: h };
}

/**
 * d(Σ cot·metric)/d(activation at hook `name`), for cotangents cot [P,N] on the metric:
 * returns [P,N,S,D]. `hs` are the layer inputs of the same forward state (forwardFrom).
 */
export async function backwardTo(
  model: NeoxModel,
  batch: Batch,
  hs: Map<number, F32>,
  hL: F32,
  name: string,
  metric: { ids: Tensor<Int32Array>; coef: F32 },
  cot: F32,
): Promise<F32> {
  const l = layerOf(name);
  let dh = await model.metricVjp(batch, hL, metric.ids, metric.coef, cot);
  // dh is ∂/∂h_L; walk down to h_{l+1} (attn_l, mlp_l, resid_l all feed h_{l+1} directly) or h_0.
  const stop = kindOf(name) === 'embed' ? 0 : l + 1;
  for (let j = model.cfg.numLayers - 1; j >= stop; j--) {
    const hj = hs.get(j);
    if (!hj) throw new Error(`backwardTo: no layer input for layer ${j}`);
    dh = add3(dh, await model.attnVjp(j, batch, hj, dh), await model.mlpVjp(j, hj, dh));
  }
  return dh;
}
