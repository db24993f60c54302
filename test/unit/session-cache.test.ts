/**
 * onnxruntime's optimized graphs kept in the cache folder (engine/session.ts): a later session
 * loads the stored graph and computes exactly what a fresh compile computes; a damaged file is
 * replaced; SFC_ORT_CACHE=0 and SFC_CACHE_DIR=off write nothing.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Graph } from '../../src-main/engine/graph';
import { SessionCache } from '../../src-main/engine/session';
import { Tensor } from '../../src-main/engine/tensor';
import { grad } from '../../src-main/engine/autodiff';
import { mulberry32 } from '../helpers/random';

let dir: string;

/** A graph onnxruntime rewrites (MatMul + Add → Gemm, fused GELU) with a VJP. */
function graph(): Graph {
  const g = new Graph();
  const x = g.input('x', 'float32', ['N', 16]);
  const w = g.input('w', 'float32', [16, 8]);
  const b = g.input('b', 'float32', [8]);
  const y = x.matmul(w).add(b).gelu().mul(x.matmul(w)).softmax();
  g.output('y', y);
  const [dx] = grad(g, [{ name: 'y', sym: y }], [x], { probe: 'P' });
  g.output('dx', dx!);
  return g;
}

const rnd = mulberry32(5);
const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => rnd() * 2 - 1);
const feeds = { x: new Tensor(rand(5 * 16), [5, 16]), w: new Tensor(rand(16 * 8), [16, 8]), b: new Tensor(rand(8), [8]), d_y: new Tensor(rand(2 * 5 * 8), [2, 5, 8]) };

async function run(): Promise<Record<string, Tensor<Float32Array>>> {
  const s = new SessionCache({ threads: 1 });
  const out = await (await s.get('test:cache', graph)).run(feeds);
  await s.dispose();
  return out;
}

const files = (): string[] => (existsSync(join(dir, 'onnx')) ? readdirSync(join(dir, 'onnx')) : []);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sfc-ort-cache-'));
  vi.stubEnv('SFC_CACHE_DIR', dir);
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

describe('optimized graph cache', () => {
  it('stores the optimized graph once and later sessions compute the same bits', async () => {
    vi.stubEnv('SFC_ORT_CACHE', '0');
    const plain = await run();
    expect(files()).toEqual([]);
    vi.stubEnv('SFC_ORT_CACHE', '1');
    const first = await run();
    expect(files()).toHaveLength(1);
    expect(files()[0]).toMatch(/^[0-9a-f]{40}\.onnx$/);
    const second = await run();
    expect(files()).toHaveLength(1);
    for (const k of ['y', 'dx']) {
      expect(Array.from(first[k].data)).toEqual(Array.from(plain[k].data));
      expect(Array.from(second[k].data)).toEqual(Array.from(plain[k].data));
    }
  });

  it('replaces a damaged file and writes nothing with caching off', async () => {
    const want = await run();
    const f = join(dir, 'onnx', files()[0]);
    writeFileSync(f, 'not a model');
    expect(Array.from((await run()).y.data)).toEqual(Array.from(want.y.data));
    expect(files()).toHaveLength(1);
    rmSync(join(dir, 'onnx'), { recursive: true });
    vi.stubEnv('SFC_CACHE_DIR', 'off');
    expect(Array.from((await run()).y.data)).toEqual(Array.from(want.y.data));
    expect(files()).toEqual([]);
  });
});
