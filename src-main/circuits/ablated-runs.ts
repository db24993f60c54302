/**
 * Many ablated forward passes of one clean batch at once (docs/performance.md, "Ablated passes"):
 * the engine behind runWithAblations, ablatedForward, the faithfulness sweep and the ablate
 * experiment. Same numbers as the one-pass-at-a-time definition in ablation.ts, which the dense
 * oracle holds it to (test/integration/ablation.test.ts); what it saves:
 *
 * - Runs in lockstep, layer by layer, share work while their states are equal: a run's state
 *   depends only on its masks at the hooks passed so far, so runs whose masks agree there form
 *   one group and are computed once. Every run starts as one group on the clean prefix (the
 *   layers before the first ablated hook run once), and the model segments of all groups run as
 *   one stacked batch.
 * - A replaced activation needs f_i(x) only for some features. With the error kept,
 *   out = x − Σ_{i∈A} (f_i(x) − a_i) v_i (A = the ablated features); with it ablated,
 *   out = b_dec + ε_a + Σ_{i∈K} f_i(x) v_i + Σ_{i∈A} a_i v_i (K = the kept ones). When the
 *   features needed (A or K) are few, they are encoded alone (SaeOps.encodeSubset) instead of
 *   all F: where a circuit is kept with its errors removed, or removed with its errors kept.
 * - Σ_{i∈A} a_i v_i is the decoded ablation row minus its kept part when A is most of it.
 * - lastOnly: the metric and next-token probabilities read h_L at the last position only, and
 *   the last layer's hooks feed nothing but that layer's own position, so they are replaced at
 *   the last position only (other positions of h_L are then not the ablated values).
 */
import { Tensor } from '../engine/tensor';
import type { Batch, F32 } from '../models/neox-model';
import { add3 } from '../models/neox-model';
import { EMBED, hookName } from '../models/hooks';
import type { Sae } from '../saes/types';
import type { JobContext } from '../util/job-context';
import type { AblationOptions, AblationValues, CircuitMask } from './ablation';
import { decodeWith } from './sae-ops';
import { type CircuitContext, saeOf } from './state';
import { layerOf, sliceBatch, tileBatch } from './walk';

/** One ablated pass: its masks and how they apply. */
export interface AblationRun {
  masks: CircuitMask;
  opts: AblationOptions;
}

export interface AblatedRunsOptions {
  /** Only the last position of h_L will be read (see the file comment). */
  lastOnly: boolean;
  /** The clean pass's activations, when the caller has them: the clean prefix is not rerun. */
  cleanActs?: Map<string, F32>;
  job?: JobContext;
}

/** Sizes that bound memory (tests lower them to reach every chunked path on small inputs). */
export const ablatedRunsLimits = {
  /** Rows encoded per onnxruntime call: its dense [rows, F] pre-activation lives inside the call. */
  encodeRows: 1024,
  /** Stacked tokens per model-segment call (groups × batch tokens). */
  segmentTokens: 8192,
  /** Tokens × runs of one lockstep pass; more examples are split into slices. */
  passTokens: 16384,
};
/** Needed features up to this share of F are encoded alone (a Gemm over their rows) rather than all F. */
const SUBSET_SHARE = 1 / 2;

/** The kept flags of one mask row: its feature list, error flag and an identity for sharing. */
interface RowInfo {
  id: number;
  list: Int32Array;
  err: boolean;
  key: string;
  inverse: Int32Array | null;
}

const rowInfos = new WeakMap<Uint8Array, RowInfo>();
let nextRowId = 1;

function rowInfo(row: Uint8Array, F: number): RowInfo {
  let info = rowInfos.get(row);
  if (info) return info;
  let n = 0;
  for (let i = 0; i < F; i++) n += row[i];
  const list = new Int32Array(n);
  for (let i = 0, k = 0; i < F; i++) if (row[i] === 1) list[k++] = i;
  const err = row[F] === 1;
  info = { id: nextRowId++, list, err, key: `${err ? 'e' : ''}${list.join(',')}`, inverse: null };
  rowInfos.set(row, info);
  return info;
}

function inverseList(info: RowInfo, F: number): Int32Array {
  if (info.inverse) return info.inverse;
  const out = new Int32Array(F - info.list.length);
  let k = 0;
  let j = 0;
  for (let i = 0; i < F; i++) {
    if (j < info.list.length && info.list[j] === i) j++;
    else out[k++] = i;
  }
  info.inverse = out;
  return out;
}

const zeroRows = new Map<number, Uint8Array>();
function zeroRow(F: number): Uint8Array {
  let r = zeroRows.get(F);
  if (!r) zeroRows.set(F, (r = new Uint8Array(F + 1)));
  return r;
}

/** A set of runs whose states are equal so far, and that state. */
interface Group {
  runs: number[];
  /** Input of the current layer, [B,S,D]. */
  h: F32;
  /** This layer's attention and MLP outputs once computed (after replacement at their hooks). */
  a?: F32;
  m?: F32;
}

/** h_L of every run (index-aligned with `runs`); runs that share a state share the tensor. */
export async function ablatedRuns(ctx: CircuitContext, clean: Batch, values: Map<string, AblationValues>, runs: AblationRun[], opts: AblatedRunsOptions): Promise<F32[]> {
  const [B, S] = clean.tokens.shape;
  for (const name of ctx.model.hookPoints) {
    const v = values.get(name);
    if (!v) continue;
    if (v.positions !== null && v.positions !== S) throw new Error(`${name}: the ablation values have ${v.positions} positions but the inputs have ${S}`);
    if (v.examples !== null && v.examples !== B) throw new Error(`${name}: the ablation values come from ${v.examples} examples but the inputs have ${B}`);
    for (const { masks } of runs) {
      const keep = masks.get(name)?.keep;
      if (keep && keep.length !== 1 && keep.length !== S) throw new Error(`${name}: the mask has ${keep.length} positions but the inputs have ${S}`);
    }
  }
  const per = Math.max(1, Math.floor(ablatedRunsLimits.passTokens / (S * Math.max(1, runs.length))));
  if (B <= per) return lockstep(ctx, clean, 0, values, runs, opts);
  // Many examples: slices of examples, each with every run (ablation values stay whole-batch).
  const parts: F32[][] = [];
  for (let b0 = 0; b0 < B; b0 += per) {
    const b1 = Math.min(B, b0 + per);
    const acts = opts.cleanActs && new Map([...opts.cleanActs].map(([k, v]) => [k, sliceRows(v, b0, b1)]));
    parts.push(await lockstep(ctx, sliceBatch(clean, b0, b1), b0, values, runs, { ...opts, cleanActs: acts }));
  }
  return runs.map((_, r) => concatRows(parts.map((p) => p[r])));
}

async function lockstep(ctx: CircuitContext, clean: Batch, b0: number, values: Map<string, AblationValues>, runs: AblationRun[], opts: AblatedRunsOptions): Promise<F32[]> {
  const model = ctx.model;
  const L = model.cfg.numLayers;
  const hooks = ctx.model.hookPoints.filter((h) => values.has(h));
  if (!hooks.length || !runs.length) {
    const h = await cleanPrefix(ctx, clean, L, opts.cleanActs);
    return runs.map(() => h);
  }
  const first = hooks[0];
  let groups: Group[];
  let l0: number;
  if (first === EMBED) {
    const x = opts.cleanActs?.get(EMBED) ?? (await model.embed(clean));
    groups = await replaceAt(ctx, EMBED, clean, b0, values, runs, [{ runs: runs.map((_, i) => i), h: x }], (g) => g.h, (g, y) => ({ ...g, h: y }), false);
    l0 = 0;
  } else {
    l0 = layerOf(first);
    groups = [{ runs: runs.map((_, i) => i), h: await cleanPrefix(ctx, clean, l0, opts.cleanActs) }];
  }
  for (let l = l0; l < L; l++) {
    opts.job?.checkCancelled();
    opts.job?.progress((l - l0) / (L - l0), `ablated passes: layer ${l}`);
    const last = opts.lastOnly && l === L - 1;
    const attn = await stacked(clean, groups, (b, h) => model.attn(l, b, h));
    groups = groups.map((g) => ({ ...g, a: attn.get(g.h)! }));
    groups = await replaceAt(ctx, hookName('attn', l), clean, b0, values, runs, groups, (g) => g.a!, (g, y) => ({ ...g, a: y }), last);
    // The MLP is per token: in the last layer under lastOnly only the last position is needed.
    const mlp = await stacked(clean, groups, async (_, h) => (last ? atLastPosition(await model.mlp(l, lastPosition(h)), h.shape[1]) : model.mlp(l, h)));
    groups = groups.map((g) => ({ ...g, m: mlp.get(g.h)! }));
    groups = await replaceAt(ctx, hookName('mlp', l), clean, b0, values, runs, groups, (g) => g.m!, (g, y) => ({ ...g, m: y }), last);
    groups = groups.map((g) => ({ runs: g.runs, h: add3(g.h, g.a!, g.m!) }));
    groups = await replaceAt(ctx, hookName('resid', l), clean, b0, values, runs, groups, (g) => g.h, (g, y) => ({ runs: g.runs, h: y }), last);
  }
  const out: F32[] = new Array(runs.length);
  for (const g of groups) for (const r of g.runs) out[r] = g.h;
  return out;
}

/** Input of layer `l` of the clean batch (h_L for l = L), from the clean pass when given. */
async function cleanPrefix(ctx: CircuitContext, clean: Batch, l: number, acts?: Map<string, F32>): Promise<F32> {
  const model = ctx.model;
  const cached = acts?.get(l === 0 ? EMBED : hookName('resid', l - 1));
  if (cached) return cached;
  let h = await model.embed(clean);
  for (let j = 0; j < l; j++) h = add3(h, await model.attn(j, clean, h), await model.mlp(j, h));
  return h;
}

/** One segment over the distinct inputs of the groups, stacked along the batch axis. */
async function stacked(clean: Batch, groups: Group[], fn: (b: Batch, h: F32) => Promise<F32>): Promise<Map<F32, F32>> {
  const distinct = [...new Set(groups.map((g) => g.h))];
  const out = new Map<F32, F32>();
  const [B, S] = clean.tokens.shape;
  const per = Math.max(1, Math.floor(ablatedRunsLimits.segmentTokens / (B * S)));
  for (let i = 0; i < distinct.length; i += per) {
    const part = distinct.slice(i, i + per);
    const h = part.length === 1 ? part[0] : concatRows(part);
    const y = await fn(tileBatch(clean, part.length), h);
    const size = B * S * y.shape[2];
    part.forEach((x, k) => out.set(x, new Tensor(y.data.subarray(k * size, (k + 1) * size), [B, S, y.shape[2]]) as F32));
  }
  return out;
}

/** What one position of one signature needs. */
interface PositionPlan {
  row: Uint8Array;
  info: RowInfo;
  complement: boolean;
  errKept: boolean;
  /** i ∈ N (the features whose f(x) enters the output) iff (row[i] === 1) === nIsL. */
  nIsL: boolean;
  /** N as a list when it is small enough to encode alone, else null (dense encoder). */
  subset: Int32Array | null;
}

/** One set of runs with one signature at this hook, within a group. */
interface Part {
  runs: number[];
  x: F32;
  plans: PositionPlan[]; // per position
}

/**
 * Replaces the activation at `name` in every group (no-op without ablation values there),
 * splitting groups whose runs mask this hook differently.
 */
async function replaceAt(
  ctx: CircuitContext,
  name: string,
  clean: Batch,
  b0: number,
  values: Map<string, AblationValues>,
  runs: AblationRun[],
  groups: Group[],
  get: (g: Group) => F32,
  set: (g: Group, y: F32) => Group,
  lastOnly: boolean,
): Promise<Group[]> {
  const v = values.get(name);
  if (!v) return groups;
  const [B, S] = clean.tokens.shape;
  const sae = saeOf(ctx, name);
  const F = sae.f;
  const parts: { group: Group; part: Part }[] = [];
  for (const g of groups) {
    const bySig = new Map<string, Part>();
    for (const r of g.runs) {
      const { masks, opts } = runs[r];
      const keep = masks.get(name)?.keep ?? [zeroRow(F)];
      const infos = keep.map((row) => rowInfo(row, F));
      const key = `${opts.complement ? 'c' : 'k'}${opts.forceErrors ?? ''}|${infos.map((i) => i.id).join(',')}`;
      let p = bySig.get(key);
      if (!p) {
        const plans = Array.from({ length: S }, (_, s) => plan(keep.length === 1 ? keep[0] : keep[s], keep.length === 1 ? infos[0] : infos[s], opts, F));
        bySig.set(key, (p = { runs: [], x: get(g), plans }));
      }
      p.runs.push(r);
    }
    for (const part of bySig.values()) parts.push({ group: g, part });
  }
  if (v.features) for (const { part } of parts) checkPartialValues(name, v.features, part.plans);
  const outs = await replaceParts(ctx, sae, v, parts.map((p) => p.part), B, S, b0, lastOnly);
  return parts.map(({ group, part }, i) => ({ ...set(group, outs[i]), runs: part.runs }));
}

/** Values computed for some features only serve runs that ablate only those, with the error kept. */
function checkPartialValues(name: string, features: Int32Array, plans: PositionPlan[]): void {
  const have = new Set(features);
  for (const pl of plans) {
    const ablatedAreListed = pl.complement && pl.info.list.every((i) => have.has(i));
    if (!pl.errKept || !ablatedAreListed) throw new Error(`${name}: these ablation values hold only some features, but a run ablates others or the error`);
  }
}

function plan(row: Uint8Array, info: RowInfo, opts: AblationOptions, F: number): PositionPlan {
  const c = opts.complement;
  const kept = (inL: boolean): boolean => inL !== c;
  const errKept = opts.forceErrors ? opts.forceErrors === 'kept' : kept(info.err);
  const nIsL = c === errKept;
  const size = nIsL ? info.list.length : F - info.list.length;
  const subset = size <= F * SUBSET_SHARE ? (nIsL ? info.list : inverseList(info, F)) : null;
  return { row, info, complement: c, errKept, nIsL, subset };
}

/**
 * The replaced activations of every part: the dense encoder for the tokens that need most
 * features (all parts' tokens in shared calls), encodeSubset for the rest, then one sparse decode.
 */
async function replaceParts(ctx: CircuitContext, sae: Sae, v: AblationValues, parts: Part[], B: number, S: number, b0: number, lastOnly: boolean): Promise<F32[]> {
  const D = sae.d;
  const N = B * S;
  const live = (n: number): boolean => !lastOnly || n % S === S - 1;
  const outs = parts.map((p) => new Float32Array(p.x.data));
  if (sae.kind === 'identity') {
    for (const [k, p] of parts.entries()) for (let n = 0; n < N; n++) if (live(n)) identityToken(p, v, n, b0, S, D, outs[k]);
    return outs.map((o) => new Tensor(o, [B, S, D]) as F32);
  }
  // f(x) at each (part, token) that needs features: dense rows stacked across parts, subsets apart.
  const dense: { k: number; n: number }[] = [];
  const subset: { k: number; n: number }[] = [];
  for (const [k, p] of parts.entries()) {
    for (let n = 0; n < N; n++) {
      if (!live(n)) continue;
      const pl = p.plans[n % S];
      if (pl.subset === null) dense.push({ k, n });
      else if (pl.subset.length) subset.push({ k, n });
    }
  }
  // Per (part, token), the signed (feature, value) pairs of Σ_{i∈N} ±f_i v_i.
  const tokIdx = new Map<number, { i: Int32Array; v: Float32Array }>(); // key k·N + n
  // Dense: one encoder over the stacked rows (chunked).
  const uniqueDense = dedupeRows(dense, parts);
  for (let c0 = 0; c0 < uniqueDense.length; c0 += ablatedRunsLimits.encodeRows) {
    const chunk = uniqueDense.slice(c0, c0 + ablatedRunsLimits.encodeRows);
    const x = new Float32Array(chunk.length * D);
    chunk.forEach(({ k, n }, r) => x.set(parts[k].x.data.subarray(n * D, (n + 1) * D), r * D));
    const f = await ctx.ops.encode(sae, x, chunk.length);
    chunk.forEach(({ users }, r) => {
      for (const { k, n } of users) {
        const pl = parts[k].plans[n % S];
        const ii: number[] = [];
        const vv: number[] = [];
        const sign = pl.errKept ? -1 : 1;
        for (let q = f.ptr[r]; q < f.ptr[r + 1]; q++) {
          const i = f.idx[q];
          if ((pl.row[i] === 1) === pl.nIsL) ii.push(i), vv.push(sign * f.val[q]);
        }
        tokIdx.set(k * N + n, { i: Int32Array.from(ii), v: Float32Array.from(vv) });
      }
    });
  }
  // Subsets: one Gemm per distinct feature list over the tokens that need it (rows shared by
  // parts of one group are computed once).
  const byList = new Map<Int32Array, Map<F32, Map<number, { k: number; n: number }[]>>>();
  for (const t of subset) {
    const list = parts[t.k].plans[t.n % S].subset!;
    let byX = byList.get(list);
    if (!byX) byList.set(list, (byX = new Map()));
    let byN = byX.get(parts[t.k].x);
    if (!byN) byX.set(parts[t.k].x, (byN = new Map()));
    const users = byN.get(t.n);
    if (users) users.push(t);
    else byN.set(t.n, [t]);
  }
  for (const [list, byX] of byList) {
    const rows: { x: F32; n: number; users: { k: number; n: number }[] }[] = [];
    for (const [x, byN] of byX) for (const [n, users] of byN) rows.push({ x, n, users });
    const K = list.length;
    for (let c0 = 0; c0 < rows.length; c0 += ablatedRunsLimits.encodeRows) {
      const chunk = rows.slice(c0, c0 + ablatedRunsLimits.encodeRows);
      const x = new Float32Array(chunk.length * D);
      chunk.forEach(({ x: xs, n }, r) => x.set(xs.data.subarray(n * D, (n + 1) * D), r * D));
      const f = await ctx.ops.encodeSubset(sae, x, chunk.length, list);
      chunk.forEach(({ users }, r) => {
        let nz = 0;
        for (let q = 0; q < K; q++) if (f[r * K + q] !== 0) nz++;
        const ii = new Int32Array(nz);
        const vv = new Float32Array(nz);
        for (let q = 0, j = 0; q < K; q++) if (f[r * K + q] !== 0) (ii[j] = list[q]), (vv[j++] = f[r * K + q]);
        for (const { k, n } of users) {
          const sign = parts[k].plans[n % S].errKept ? -1 : 1;
          tokIdx.set(k * N + n, { i: ii, v: sign === 1 ? vv : vv.map((a) => -a) });
        }
      });
    }
  }
  // Assemble: out = base + Σ ±f_i v_i + Σ_{i∈A} a_i v_i (+ ε_a with the error ablated).
  const ablSums = new Map<string, Float32Array>();
  for (const [k, p] of parts.entries()) {
    const out = outs[k];
    const rows: number[] = [];
    for (let n = 0; n < N; n++) if (live(n)) rows.push(n);
    const ptr = new Int32Array(rows.length + 1);
    const found = rows.map((n) => tokIdx.get(k * N + n));
    rows.forEach((_, r) => (ptr[r + 1] = ptr[r] + (found[r]?.i.length ?? 0)));
    const fi = new Int32Array(ptr[rows.length]);
    const fv = new Float32Array(ptr[rows.length]);
    found.forEach((t, r) => {
      if (t) fi.set(t.i, ptr[r]), fv.set(t.v, ptr[r]);
    });
    const dec = new Float32Array(rows.length * D);
    decodeWith(sae.dec, D, null, { rows: rows.length, ptr, idx: fi, val: fv }, dec);
    rows.forEach((n, r) => {
      const pl = p.plans[n % S];
      const ar = v.rowOf((b0 * S) + n);
      const abl = ablationSum(sae, v, pl, ar, ablSums);
      const o = n * D;
      if (pl.errKept) for (let d = 0; d < D; d++) out[o + d] = p.x.data[o + d] + dec[r * D + d] + abl[d];
      else for (let d = 0; d < D; d++) out[o + d] = sae.bDec[d] + v.err[ar * D + d] + dec[r * D + d] + abl[d];
    });
  }
  return outs.map((o) => new Tensor(o, [B, S, D]) as F32);
}

/** Tokens whose rows are the same activation (parts of one group share x): encoded once. */
function dedupeRows(tokens: { k: number; n: number }[], parts: Part[]): { k: number; n: number; users: { k: number; n: number }[] }[] {
  const byRow = new Map<F32, Map<number, { k: number; n: number; users: { k: number; n: number }[] }>>();
  const out: { k: number; n: number; users: { k: number; n: number }[] }[] = [];
  for (const t of tokens) {
    const x = parts[t.k].x;
    let m = byRow.get(x);
    if (!m) byRow.set(x, (m = new Map()));
    let e = m.get(t.n);
    if (!e) {
      m.set(t.n, (e = { ...t, users: [] }));
      out.push(e);
    }
    e.users.push(t);
  }
  return out;
}

/** Σ_{i∈A} a_{r,i} v_i for one position plan and ablation row r (cached per row identity). */
function ablationSum(sae: Sae, v: AblationValues, pl: PositionPlan, r: number, cache: Map<string, Float32Array>): Float32Array {
  const key = `${pl.info.id}|${pl.complement}|${r}`;
  let s = cache.get(key);
  if (s) return s;
  const D = sae.d;
  const inA = (i: number): boolean => (pl.row[i] === 1) === pl.complement;
  let nA = 0;
  const n = v.f.ptr[r + 1] - v.f.ptr[r];
  for (let q = v.f.ptr[r]; q < v.f.ptr[r + 1]; q++) if (inA(v.f.idx[q])) nA++;
  // Sum the smaller side: A directly, or the whole row minus the rest.
  const direct = nA <= n - nA;
  const ii = new Int32Array(direct ? nA : n - nA);
  const vv = new Float32Array(ii.length);
  let k = 0;
  for (let q = v.f.ptr[r]; q < v.f.ptr[r + 1]; q++) if (inA(v.f.idx[q]) === direct) (ii[k] = v.f.idx[q]), (vv[k++] = v.f.val[q]);
  s = new Float32Array(D);
  decodeWith(sae.dec, D, null, { rows: 1, ptr: Int32Array.from([0, ii.length]), idx: ii, val: vv }, s);
  if (!direct) {
    const full = fullRow(sae, v, r);
    for (let d = 0; d < D; d++) s[d] = full[d] - s[d];
  }
  cache.set(key, s);
  return s;
}

const fullRows = new WeakMap<AblationValues, Map<number, Float32Array>>();

/** Σ_i a_{r,i} v_i over the whole ablation row (no bias), once per values and row. */
function fullRow(sae: Sae, v: AblationValues, r: number): Float32Array {
  let m = fullRows.get(v);
  if (!m) fullRows.set(v, (m = new Map()));
  let s = m.get(r);
  if (!s) {
    s = new Float32Array(sae.d);
    const p0 = v.f.ptr[r];
    const p1 = v.f.ptr[r + 1];
    decodeWith(sae.dec, sae.d, null, { rows: 1, ptr: Int32Array.from([0, p1 - p0]), idx: v.f.idx.subarray(p0, p1), val: v.f.val.subarray(p0, p1) }, s);
    m.set(r, s);
  }
  return s;
}

/** Identity dictionaries: f = x, no error, so each coordinate is kept or takes its ablation value. */
function identityToken(p: Part, v: AblationValues, n: number, b0: number, S: number, D: number, out: Float32Array): void {
  const pl = p.plans[n % S];
  const r = v.rowOf(b0 * S + n);
  const a = new Float32Array(D);
  for (let q = v.f.ptr[r]; q < v.f.ptr[r + 1]; q++) a[v.f.idx[q]] = v.f.val[q];
  for (let d = 0; d < D; d++) if ((pl.row[d] === 1) === pl.complement) out[n * D + d] = a[d];
}

/** [B,S,D] → its last position, [B,1,D]. */
function lastPosition(h: F32): F32 {
  const [B, S, D] = h.shape;
  const out = new Float32Array(B * D);
  for (let b = 0; b < B; b++) out.set(h.data.subarray((b * S + S - 1) * D, (b * S + S) * D), b * D);
  return new Tensor(out, [B, 1, D]) as F32;
}

/** [B,1,D] → [B,S,D] with it at the last position and zeros elsewhere (never read). */
function atLastPosition(y: F32, S: number): F32 {
  const [B, , D] = y.shape;
  const out = new Float32Array(B * S * D);
  for (let b = 0; b < B; b++) out.set(y.data.subarray(b * D, (b + 1) * D), (b * S + S - 1) * D);
  return new Tensor(out, [B, S, D]) as F32;
}

function concatRows(ts: F32[]): F32 {
  const n = ts.reduce((s, t) => s + t.shape[0], 0);
  const out = new Float32Array(ts.reduce((s, t) => s + t.data.length, 0));
  let o = 0;
  for (const t of ts) out.set(t.data, o), (o += t.data.length);
  return new Tensor(out, [n, ...ts[0].shape.slice(1)]) as F32;
}

function sliceRows(t: F32, b0: number, b1: number): F32 {
  const per = t.data.length / t.shape[0];
  return new Tensor(t.data.subarray(b0 * per, b1 * per), [b1 - b0, ...t.shape.slice(1)]) as F32;
}
