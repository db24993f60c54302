/**
 * The ablated forward pass written the straightforward way, one run and one whole SAE pass per
 * hook (how circuits/ablation.ts computed it before circuits/ablated-runs.ts): at every hook
 * with ablation values, f = encode(x) and ε = x − x̂ in full, then decode(f') + ε' with f' and ε'
 * taking the kept nodes from the run and the rest from the ablation values. A test twin of the
 * engine (full h_L at every position) and the benchmark's "plain ablated forward pass".
 */
import { Tensor } from '../../src-main/engine/tensor';
import type { Batch, F32 } from '../../src-main/models/neox-model';
import type { AblationOptions, AblationValues, CircuitMask, SubmoduleMask } from '../../src-main/circuits/ablation';
import { type CircuitContext, type MetricInputs, decompose, saeOf } from '../../src-main/circuits/state';

async function ablateAt(ctx: CircuitContext, name: string, x: Float32Array, B: number, S: number, v: AblationValues, mask: SubmoduleMask | undefined, opts: AblationOptions): Promise<Float32Array> {
  const sae = saeOf(ctx, name);
  const { f: F, d: D } = sae;
  const keep = mask?.keep ?? [new Uint8Array(F + 1)];
  const rows = B * S;
  const st = await decompose(ctx, name, x, rows);
  const ptr = new Int32Array(rows + 1);
  const idx: number[] = [];
  const val: number[] = [];
  const errKept = new Uint8Array(rows);
  for (let n = 0; n < rows; n++) {
    const k = keep[keep.length === 1 ? 0 : n % S];
    const kept = (i: number): boolean => (k[i] === 1) !== opts.complement;
    const r = v.rowOf(n);
    for (let q = st.f.ptr[n]; q < st.f.ptr[n + 1]; q++) if (kept(st.f.idx[q])) idx.push(st.f.idx[q]), val.push(st.f.val[q]);
    for (let q = v.f.ptr[r]; q < v.f.ptr[r + 1]; q++) if (!kept(v.f.idx[q])) idx.push(v.f.idx[q]), val.push(v.f.val[q]);
    ptr[n + 1] = idx.length;
    errKept[n] = Number(opts.forceErrors ? opts.forceErrors === 'kept' : kept(F));
  }
  const out = ctx.ops.decode(sae, { rows, ptr, idx: Int32Array.from(idx), val: Float32Array.from(val) });
  for (let n = 0; n < rows; n++) {
    const e = errKept[n] ? st.err : v.err;
    const o = errKept[n] ? n * D : v.rowOf(n) * D;
    for (let d = 0; d < D; d++) out[n * D + d] += e[o + d];
  }
  return out;
}

/** h_L of the clean batch with every submodule in `values` ablated outside its mask. */
export async function straightforwardAblatedForward(ctx: CircuitContext, clean: Batch, values: Map<string, AblationValues>, masks: CircuitMask, opts: AblationOptions): Promise<F32> {
  const [B, S] = clean.tokens.shape;
  const { h } = await ctx.model.forward(clean, async (name, x) => {
    const v = values.get(name);
    if (!v) return undefined;
    return new Tensor(await ablateAt(ctx, name, x.data, B, S, v, masks.get(name), opts), x.shape) as F32;
  });
  return h;
}

/** The metric per example of one straightforward ablated pass. */
export async function straightforwardRunMetric(ctx: CircuitContext, clean: Batch, metric: MetricInputs, values: Map<string, AblationValues>, masks: CircuitMask, opts: AblationOptions): Promise<Float32Array> {
  const h = await straightforwardAblatedForward(ctx, clean, values, masks, opts);
  return (await ctx.model.metric(clean, h, metric.ids, metric.coef)).data;
}
