/**
 * The fast SAE loader (mapped in this thread where the native addon allows it, else a worker
 * pool) gives exactly what the plain sequential loader gives, and the same errors; both ways.
 */
import { mkdtempSync, rmSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSaeSet } from '../../src-main/saes/load';
import { loadSaeSetParallel } from '../../src-main/saes/load-parallel';
import { writeCircuitFixture } from '../helpers/circuit-fixture';

const root = mkdtempSync(join(tmpdir(), 'sfc-par-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fx = writeCircuitFixture(root);

describe('parallel SAE loading', () => {
  it.each([['mapped where possible', true], ['worker pool', false]] as const)('equals the sequential loader (%s)', async (_name, mapWeights) => {
    const opts = { submodules: fx.submodules, d: 32, layers: 2 };
    const a = loadSaeSet(fx.saes, { ...opts, mapWeights: false });
    const progress: string[] = [];
    const b = await loadSaeSetParallel(fx.saes, { ...opts, mapWeights, onProgress: (_k, _n, sub) => progress.push(sub) });
    expect([...b.keys()]).toEqual(fx.submodules);
    expect(progress.sort()).toEqual([...fx.submodules].sort());
    for (const [k, s] of a) {
      const t = b.get(k)!;
      expect(t.enc).toEqual(s.enc);
      expect(t.dec).toEqual(s.dec);
      expect(t.bEnc).toEqual(s.bEnc);
      expect(t.bDec).toEqual(s.bDec);
      expect(t.kind).toBe(s.kind);
    }
  });
  it('reports a missing submodule and a width mismatch like the sequential loader', async () => {
    await expect(loadSaeSetParallel(fx.saes, { submodules: fx.submodules, d: 48 })).rejects.toThrow(/activation width 32, model width 48/);
    renameSync(join(fx.saes, 'attn_out_layer1'), join(fx.saes, 'x'));
    await expect(loadSaeSetParallel(fx.saes, { submodules: fx.submodules, d: 32 })).rejects.toThrow(/no SAE for attn_1/);
    renameSync(join(fx.saes, 'x'), join(fx.saes, 'attn_out_layer1'));
  });
});
