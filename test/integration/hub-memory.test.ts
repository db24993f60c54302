/**
 * The memory check before a run: model, dictionaries (from their headers) and the run against
 * what the machine has; a load that will not fit is refused with the numbers before anything
 * big is read.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeCircuitFixture, type CircuitFixture } from '../helpers/circuit-fixture';
import { checkMemory, memoryPlan, RUN_ALLOWANCE_BYTES } from '../../src-main/jobs/memory';
import { loadContext } from '../../src-main/jobs/circuit-jobs';
import { runtime } from '../../src-main/jobs/runtime';
import { noopContext } from '../../src-main/util/job-context';

let root: string;
let fx: CircuitFixture;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'sfc-mem-'));
  fx = writeCircuitFixture(root, { hidden: 32, features: 64, layers: 2 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  delete process.env.SFC_MEMORY_LIMIT;
  delete process.env.SFC_SKIP_MEMORY_CHECK;
});

describe('memory before a run', () => {
  it('counts the model and every dictionary from headers, plus the run', () => {
    const p = memoryPlan({ model: fx.model, saes: fx.saes, neurons: false }, RUN_ALLOWANCE_BYTES);
    expect(p.saeCount).toBe(7);
    expect(p.saeBytes).toBe(7 * 4 * (2 * 64 * 32 + 64 + 32));
    expect(p.modelBytes).toBeGreaterThan(0);
    expect(p.peakBytes).toBe(p.baseBytes + p.modelBytes + p.saeBytes + RUN_ALLOWANCE_BYTES);
    expect(p.fits).toBe(true);
    expect(p.summary).toMatch(/^needs about .* \(the model \d+ MiB, 7 dictionaries \d+ MiB, the run about 256 MiB, .* already in use\); .* available$/);
    expect(memoryPlan({ model: fx.model, saes: fx.saes, neurons: true }, 0).saeBytes).toBe(0);
  });

  it('refuses, with the numbers, a load that will not fit, before reading any weights', async () => {
    process.env.SFC_MEMORY_LIMIT = String(32 * 2 ** 20);
    expect(() => checkMemory({ model: fx.model, saes: fx.saes, neurons: false })).toThrow(
      /^not enough memory: this needs about .* \(the model .*, 7 dictionaries .*\); 32 MiB available\. Close other programs, lower the batch size, or use a machine with more memory \(SFC_SKIP_MEMORY_CHECK=1 tries anyway\)$/,
    );
    await expect(loadContext(fx.model, fx.saes, false, noopContext)).rejects.toThrow(/^not enough memory/);
    expect(runtime().loadedModel(fx.model)).toBeNull();
    process.env.SFC_SKIP_MEMORY_CHECK = '1';
    expect(checkMemory({ model: fx.model, saes: fx.saes, neurons: false }).fits).toBe(false);
  });
});
