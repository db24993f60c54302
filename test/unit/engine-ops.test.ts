/**
 * Every op: the ONNX path equals the float64 reference, and every VJP rule (with a probe batch
 * of cotangents) equals central finite differences of the float64 reference.
 */
import { describe, expect, it } from 'vitest';
import { Graph, type Sym, concat, gather } from '../../src-main/engine/graph';
import { grad } from '../../src-main/engine/autodiff';
import { evalGraph64 } from '../../src-main/engine/reference';
import { SessionCache } from '../../src-main/engine/session';
import { Tensor } from '../../src-main/engine/tensor';
import type { Nd } from '../../src-main/engine/nd64';
import { mulberry32 } from '../helpers/random';

interface Case {
  name: string;
  /** Concrete input shapes; symbolic names in `sym` are bound by these. */
  shapes: number[][];
  sym?: (string | number)[][];
  build: (xs: Sym[]) => Sym;
  positive?: boolean;
  /** Inputs that are integers (not differentiated). */
  ints?: number[];
  /** Float inputs that are not differentiated. */
  nodiff?: number[];
}

const rnd = mulberry32(1234);
const ri = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));

function cases(): Case[] {
  const B = ri(1, 3), S = ri(1, 4), D = ri(2, 5), K = ri(2, 4);
  return [
    { name: 'Add broadcast', shapes: [[B, S, D], [D]], build: ([a, b]) => a.add(b) },
    { name: 'Sub broadcast 1', shapes: [[B, 1, D], [B, S, 1]], build: ([a, b]) => a.sub(b) },
    { name: 'Mul', shapes: [[B, S, D], [S, D]], build: ([a, b]) => a.mul(b) },
    { name: 'Div', shapes: [[B, S, D], [B, S, 1]], build: ([a, b]) => a.div(b), positive: true },
    { name: 'Neg', shapes: [[B, D]], build: ([a]) => a.neg() },
    { name: 'Sqrt', shapes: [[B, D]], build: ([a]) => a.sqrt(), positive: true },
    { name: 'Exp', shapes: [[B, S, D]], build: ([a]) => a.exp() },
    { name: 'Erf', shapes: [[B, S, D]], build: ([a]) => a.erf() },
    { name: 'Gelu', shapes: [[B, S, D]], build: ([a]) => a.gelu() },
    { name: 'Relu', shapes: [[B, S, D]], build: ([a]) => a.relu() },
    { name: 'MatMul 3x2', shapes: [[B, S, D], [D, K]], build: ([a, b]) => a.matmul(b) },
    { name: 'MatMul batched', shapes: [[B, 2, S, D], [B, 2, D, K]], build: ([a, b]) => a.matmul(b) },
    { name: 'MatMul broadcast', shapes: [[1, S, D], [B, D, K]], build: ([a, b]) => a.matmul(b) },
    { name: 'MatMulNT 2-D (Gemm)', shapes: [[S, D], [K, D]], build: ([a, b]) => a.matmulT(b) },
    { name: 'MatMulNT 3-D', shapes: [[B, S, D], [K, D]], build: ([a, b]) => a.matmulT(b) },
    { name: 'LinearNT (Gemm + bias)', shapes: [[S, D], [K, D], [K]], build: ([a, w, b]) => a.linearT(w, b) },
    { name: 'Softmax', shapes: [[B, S, D]], build: ([a]) => a.softmax() },
    { name: 'LogSoftmax', shapes: [[B, D]], build: ([a]) => a.logSoftmax() },
    { name: 'ReduceSum keep', shapes: [[B, S, D]], build: ([a]) => a.sum([-1], true) },
    { name: 'ReduceSum drop', shapes: [[B, S, D]], build: ([a]) => a.sum([0, 2], false) },
    { name: 'ReduceMean', shapes: [[B, S, D]], build: ([a]) => a.mean([-1], true) },
    { name: 'ReduceMean drop', shapes: [[B, S, D]], build: ([a]) => a.mean([1], false) },
    {
      name: 'Reshape symbolic',
      shapes: [[B, S, 2 * D]],
      sym: [['B', 'S', 2 * D]],
      build: ([a]) => a.reshape(['B', 'S', 2, D]),
    },
    { name: 'Transpose', shapes: [[B, S, D, K]], build: ([a]) => a.transpose([0, 2, 1, 3]) },
    { name: 'Slice', shapes: [[B, S, D + 2]], build: ([a]) => a.slice(-1, 1, D + 1) },
    { name: 'Concat', shapes: [[B, S, D], [B, S, K]], build: ([a, b]) => concat([a, b], 2) },
    {
      name: 'Gather + downstream',
      shapes: [[7, D], [B, S], [D]],
      ints: [1],
      nodiff: [0],
      build: ([t, i, w]) => gather(t, i).mul(w),
    },
    {
      name: 'LayerNorm composite',
      shapes: [[B, S, D], [D], [D]],
      build: ([x, w, b]) => {
        const c = x.sub(x.mean([-1]));
        return c.div(c.mul(c).mean([-1]).add(1e-5).sqrt()).mul(w).add(b);
      },
    },
  ];
}

function randomNd(shape: number[], positive: boolean, intMax?: number): Nd {
  const n = shape.reduce((p, d) => p * d, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = intMax ? Math.floor(rnd() * intMax) : positive ? 0.5 + rnd() : rnd() * 2 - 1;
  return { data, shape };
}

const toF32 = (x: Nd): Tensor => new Tensor(Float32Array.from(x.data), x.shape);
const toI32 = (x: Nd): Tensor => new Tensor(Int32Array.from(x.data), x.shape);
/** Round to float32 so the reference and ORT see the same inputs. */
const f32 = (x: Nd): Nd => ({ data: Float64Array.from(Float32Array.from(x.data)), shape: x.shape });

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (err > atol + rtol * Math.abs(want[i])) {
      throw new Error(`${what}[${i}]: got ${got[i]}, want ${want[i]}`);
    }
  }
}

describe('engine ops', () => {
  const cache = new SessionCache({ threads: 1 });
  const P = 2;
  for (let rep = 0; rep < 2; rep++) {
    for (const c of cases()) {
      it(`${c.name} (random shapes #${rep}): ONNX = float64 reference, VJP = finite differences`, async () => {
        const g = new Graph();
        const xs = c.shapes.map((s, i) =>
          g.input(`x${i}`, c.ints?.includes(i) ? 'int32' : 'float32', c.sym?.[i] ?? s),
        );
        const y = c.build(xs);
        g.output('y', y);
        const diff = xs.filter((_, i) => !c.ints?.includes(i) && !c.nodiff?.includes(i));
        const grads = grad(g, [{ name: 'y', sym: y }], diff, { probe: 'P' });
        grads.forEach((gr, i) => gr && g.output(`g${i}`, gr));

        const vals = c.shapes.map((s, i) => (c.ints?.includes(i) ? randomNd(s, false, 7) : f32(randomNd(s, !!c.positive))));
        const yRef = evalGraph64(g, Object.fromEntries(vals.map((v, i) => [`x${i}`, v])), ['y']).y;
        const cotShape = [P, ...yRef.shape];
        const cotNd = f32(randomNd(cotShape, false));

        const feeds: Record<string, Tensor> = { d_y: toF32(cotNd) };
        vals.forEach((v, i) => (feeds[`x${i}`] = c.ints?.includes(i) ? toI32(v) : toF32(v)));
        const compiled = await cache.get(`${c.name}#${rep}`, () => g);
        const out = await compiled.run(feeds);
        expectClose(out.y.data, yRef.data, 1e-4, 1e-5, `${c.name} forward`);
        expect([...out.y.shape]).toEqual(yRef.shape);

        // Central differences of <y, cot_p> in float64.
        const h = 1e-6;
        diff.forEach((x, gi) => {
          const i = xs.indexOf(x);
          const got = out[`g${gi}`];
          if (!got) throw new Error(`no gradient for input ${i}`);
          expect([...got.shape]).toEqual([P, ...vals[i].shape]);
          const want = new Float64Array(got.data.length);
          const base = vals[i];
          for (let k = 0; k < base.data.length; k++) {
            const ev = (dx: number): Nd => {
              const pert = { data: Float64Array.from(base.data), shape: base.shape };
              pert.data[k] += dx;
              const fd = Object.fromEntries(vals.map((v, j) => [`x${j}`, j === i ? pert : v]));
              return evalGraph64(g, fd, ['y']).y;
            };
            const yp = ev(h), ym = ev(-h);
            for (let p = 0; p < P; p++) {
              let s = 0;
              for (let q = 0; q < yp.data.length; q++) s += (yp.data[q] - ym.data[q]) * cotNd.data[p * yp.data.length + q];
              want[p * base.data.length + k] = s / (2 * h);
            }
          }
          expectClose(got.data, want, 2e-3, 2e-4, `${c.name} d/dx${i}`);
        });
      });
    }
  }
});
