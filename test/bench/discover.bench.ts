/**
 * `npm run bench`: discovery at Pythia-70M scale (random weights, real shapes), stage by stage,
 * against the machine's MatMul rate and the method's compute floor. Not part of `npm test`.
 *
 *   node bin/run-ts.js test/bench/discover.bench.ts [--section LIST] [--n 4,20,100] [--naive-n 4] [--skip-naive] [--load-only] [--saelens] [--reps R]
 *
 * Sections (default: all, in this order): help (`sfc --help`), load, discover (the --n runs),
 * naive (the straightforward algorithm), fixed (fixed cost of a fresh `sfc discover`), demo
 * (warm demo discovery, sweep and ablate), latency (Pythia-scale ablate and sweep), positions
 * (`--aggregation none`, N = 20, 50, 100). test/bench/latency.ts has the new ones.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { SessionCache } from '../../src-main/engine/session';
import { Profiler, activeProfiler } from '../../src-main/engine/profile';
import { runtime } from '../../src-main/jobs/runtime';
import { canMapFiles, nativeKernelStatus } from '../../src-main/engine/native-kernels';
import { SaeOps } from '../../src-main/circuits/sae-ops';
import { type PreparedExample, discover, discoveryMetric } from '../../src-main/circuits/discover';
import { attributeNodes } from '../../src-main/circuits/nodes';
import { attributeEdges } from '../../src-main/circuits/edges';
import { straightforwardDiscover } from './straightforward';
import type { CircuitContext } from '../../src-main/circuits/state';
import { mulberry32 } from '../helpers/random';
import { BENCH_DIR, ensureBenchData, ensureBenchFixture, ensureSaelensFixture } from './fixture';
import { demoSection, fixedSection, helpSection, positionsSection, pythiaLatency } from './latency';
import { standardSubmodules } from '../../src-main/saes/load';
import { discoveryFlops, matmulRate } from '../../src-main/circuits/cost';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '4,20,100' },
    'naive-n': { type: 'string', default: '4' },
    'skip-naive': { type: 'boolean', default: false },
    'load-only': { type: 'boolean', default: false },
    saelens: { type: 'boolean', default: false },
    section: { type: 'string', default: 'help,load,discover,naive,fixed,demo,latency,positions' },
    reps: { type: 'string', default: '3' },
  },
});
const SECTIONS = ['help', 'load', 'discover', 'naive', 'fixed', 'demo', 'latency', 'positions'];
const sections = new Set(values['load-only'] ? ['load'] : values.section!.split(',').map((x) => x.trim()));
for (const x of sections) if (!SECTIONS.includes(x)) throw new Error(`--section: unknown section '${x}' (${SECTIONS.join(', ')})`);
if (values['skip-naive']) sections.delete('naive');
sections.add('load'); // every other section but help reads the loaded model
const reps = Number(values.reps);
const log = (m: string): void => console.error(m);
const rss = (): number => process.resourceUsage().maxRSS / 1024 / 1024; // GiB

function examples(n: number, seed: number): PreparedExample[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const clean = Array.from({ length: 6 }, () => 1 + Math.floor(r() * 50000));
    const patch = [...clean];
    patch[1] = 1 + Math.floor(r() * 50000); // the "subject" token differs, as in agreement pairs
    return { clean, patch, cleanAnswer: 1 + Math.floor(r() * 50000), patchAnswer: 1 + Math.floor(r() * 50000) };
  });
}

/** FLOPs the method cannot avoid at this benchmark's shapes (circuits/cost.ts). */
function computeFloor(ctx: CircuitContext, n: number, steps: number): number {
  const c = ctx.model.cfg;
  const features = ctx.submodules.map((submodule) => ({ submodule, f: ctx.saes.get(submodule)!.f }));
  return discoveryFlops({ hiddenSize: c.hiddenSize, intermediateSize: c.intermediateSize, numLayers: c.numLayers, features }, n * 6, 6, steps);
}

async function main(): Promise<void> {
  mkdirSync(BENCH_DIR, { recursive: true });
  const fx = await ensureBenchFixture(log);
  const data = ensureBenchData();
  const extra: Record<string, unknown> = {};
  if (sections.has('help')) extra.help = helpSection(Math.max(reps, 5));
  const saeDir = values.saelens ? ensureSaelensFixture(fx, standardSubmodules(6), log) : fx.saes;
  // [800,512] × [512,32768], the shape of the SAE encoders.
  const rate = await matmulRate(new SessionCache(), { rows: 800, d: 512, f: 32768 }, 5, 'mean');
  log(`MatMul rate: ${rate.toFixed(1)} GFLOP/s`);

  // Loaded through the compute worker's runtime, so the job sections below find them loaded.
  const t0 = performance.now();
  const rt = runtime();
  const sessions = rt.sessions;
  const model = await rt.model(fx.model);
  const loadModelSeconds = (performance.now() - t0) / 1000;
  const saes = await rt.saes(saeDir, { submodules: model.hookPoints, d: model.cfg.hiddenSize, layers: model.cfg.numLayers });
  const loadSeconds = (performance.now() - t0) / 1000;
  const rssAfterLoad = rss();
  log(`kernels: ${nativeKernelStatus}; SAEs ${values.saelens ? 'in SAELens folders' : 'as ae.pt'}, weights ${canMapFiles() ? 'mapped from their files' : 'read'}`);
  log(`load: ${loadSeconds.toFixed(2)} s (model ${loadModelSeconds.toFixed(2)} s, 19 SAEs ${(loadSeconds - loadModelSeconds).toFixed(2)} s), RSS ${rssAfterLoad.toFixed(2)} GiB`);
  // Mapped weights come into memory on first use: read one value per page of every SAE array
  // now, so that cost is on the record too (warm page cache: page-table work only).
  const tt = performance.now();
  let touched = 0;
  for (const sae of saes.values()) for (const a of [sae.enc, sae.dec]) for (let i = 0; i < a.length; i += 1024) touched += a[i]!;
  const firstTouchSeconds = (performance.now() - tt) / 1000;
  log(`first touch of every SAE weight page after loading: ${firstTouchSeconds.toFixed(2)} s (checksum ${touched.toFixed(1)})`);
  const ctx: CircuitContext = { model, saes, ops: new SaeOps(sessions), submodules: model.hookPoints };
  // The machine's speed swings within minutes: the MatMul rate is measured again before each section.
  const rates: Record<string, number> = { start: rate };
  const section = async (name: string, fn: () => unknown): Promise<void> => {
    if (!sections.has(name)) return;
    rates[name] = await matmulRate(new SessionCache(), { rows: 800, d: 512, f: 32768 }, 5, 'mean');
    log(`--- ${name} (MatMul ${rates[name].toFixed(1)} GFLOP/s)`);
    extra[name] = await fn();
  };
  await section('fixed', () => fixedSection(fx, data.five, reps));
  await section('demo', () => demoSection(reps));
  await section('latency', () => pythiaLatency(ctx, fx, data.five, reps));
  await section('positions', () => positionsSection(fx, data.six));
  extra.matmulGflopsBySection = rates;
  if (!sections.has('discover') && !sections.has('naive')) {
    const report = { date: new Date().toISOString(), matmulGflops: rate, kernels: nativeKernelStatus, loadSeconds, loadModelSeconds, firstTouchSeconds, sections: [...sections], ...extra, peakRssGiB: rss() };
    writeFileSync(join(BENCH_DIR, 'report.json'), JSON.stringify(report, null, 2));
    log(`peak RSS of this process ${rss().toFixed(2)} GiB; wrote ${join(BENCH_DIR, 'report.json')}`);
    return;
  }

  // Plain forward pass, batch 10 × 8 tokens (the model alone, all hook points read).
  const fwdBatch = model.batchFromIds(examples(10, 5).map((e) => [...e.clean, 7, 9]));
  await model.forward(fwdBatch);
  const tf = performance.now();
  for (let i = 0; i < 10; i++) await model.forward(fwdBatch);
  const forwardMs = (performance.now() - tf) / 10;
  log(`forward, batch 10 × 8 tokens: ${forwardMs.toFixed(1)} ms`);

  // Warm the sessions (graph compilation is a one-time cost, reported separately).
  const tw = performance.now();
  await discover(ctx, examples(2, 99), { method: 'ig', steps: 2, aggregation: 'sum', nodeThreshold: 0.1, batchSize: 2, nodesOnly: false });
  const warmSeconds = (performance.now() - tw) / 1000;

  const runs = [];
  for (const n of sections.has('discover') ? values.n!.split(',').map(Number) : []) {
    const p = new Profiler();
    activeProfiler.current = p;
    const stats = { selected: 0 };
    const t1 = performance.now();
    await discover(ctx, examples(n, 1), { method: 'ig', steps: 10, aggregation: 'sum', nodeThreshold: 0.1, batchSize: 10, nodesOnly: false, profiler: p, stats });
    const wall = (performance.now() - t1) / 1000;
    activeProfiler.current = null;
    const floor = computeFloor(ctx, n, 10) / (rate * 1e9);
    const stages = [...p.seconds].map(([stage, s]) => ({ stage, seconds: s, gflop: (p.flops.get(stage) ?? 0) / 1e9, gflops: (p.flops.get(stage) ?? 0) / 1e9 / s }));
    runs.push({ n, wall, floorSeconds: floor, ratioToFloor: wall / floor, selectedDownstream: stats.selected, stages, peakRssGiB: rss() });
    log(`N=${n}: ${wall.toFixed(2)} s (floor ${floor.toFixed(2)} s, ×${(wall / floor).toFixed(2)}), ${stats.selected} downstream nodes selected, peak RSS ${rss().toFixed(2)} GiB`);
    const mem = process.memoryUsage();
    log(`   now: RSS ${(mem.rss / 2 ** 30).toFixed(2)} GiB, JS heap ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB, array buffers ${(mem.arrayBuffers / 2 ** 30).toFixed(2)} GiB`);
    for (const s of stages) log(`   ${s.stage.padEnd(18)} ${s.seconds.toFixed(2).padStart(7)} s  ${s.gflop.toFixed(1).padStart(8)} GFLOP  ${s.gflops.toFixed(1).padStart(7)} GFLOP/s`);
  }

  // Side by side: the straightforward algorithm and ours on the same N examples (one batch).
  let comparison = null;
  if (sections.has('naive')) {
    const n = Number(values['naive-n']);
    const ex = examples(n, 1);
    const clean = model.batchFromIds(ex.map((e) => e.clean));
    const patch = model.batchFromIds(ex.map((e) => e.patch!));
    const metric = discoveryMetric(ex);
    const pf = new Profiler();
    activeProfiler.current = pf;
    const t1 = performance.now();
    const nodes = await attributeNodes(ctx, clean, patch, metric, { method: 'ig', steps: 10, profiler: pf });
    await pf.time('edges', () => attributeEdges(ctx, clean, nodes, { nodeThreshold: 0.1, aggregation: 'sum' }));
    const fastWall = (performance.now() - t1) / 1000;
    const pn = new Profiler();
    activeProfiler.current = pn;
    const t2 = performance.now();
    const naive = await straightforwardDiscover(sessions, ctx, clean, patch, metric, 10, 0.1, pn);
    const naiveWall = (performance.now() - t2) / 1000;
    activeProfiler.current = null;
    // Same numbers: compare every node effect of a few submodules.
    let maxErr = 0;
    let maxVal = 0;
    for (const name of ['embed', 'attn_2', 'resid_5']) {
      const e = nodes.effects.get(name)!;
      const F1 = saes.get(name)!.f + 1;
      const dn = naive.effects.get(name)!;
      for (let t = 0; t < e.resc.length; t++) {
        for (let q = e.act.ptr[t]; q < e.act.ptr[t + 1]; q++) {
          maxErr = Math.max(maxErr, Math.abs(e.act.val[q] - dn[t * F1 + e.act.idx[q]]));
          maxVal = Math.max(maxVal, Math.abs(e.act.val[q]));
        }
        maxErr = Math.max(maxErr, Math.abs(e.resc[t] - dn[t * F1 + F1 - 1]));
      }
    }
    const stages = (p: Profiler) => Object.fromEntries([...p.seconds].map(([k, v]) => [k, { seconds: v, gflop: (p.flops.get(k) ?? 0) / 1e9 }]));
    comparison = { n, fast: { wall: fastWall, stages: stages(pf) }, straightforward: { wall: naiveWall, stages: stages(pn) }, speedup: naiveWall / fastWall, nodeEffectMaxAbsDiff: maxErr, nodeEffectMaxAbs: maxVal };
    log(`straightforward vs ours, N=${n}: ${naiveWall.toFixed(2)} s vs ${fastWall.toFixed(2)} s (×${(naiveWall / fastWall).toFixed(1)}); node effects agree to ${maxErr.toExponential(2)} (max |effect| ${maxVal.toExponential(2)})`);
    for (const k of new Set([...pf.seconds.keys(), ...pn.seconds.keys()])) {
      log(`   ${k.padEnd(18)} ${(pn.seconds.get(k) ?? 0).toFixed(2).padStart(8)} s  vs ${(pf.seconds.get(k) ?? 0).toFixed(2).padStart(7)} s`);
    }
  }

  const report = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: totalmem() / 2 ** 30, node: process.version, onnxruntime: ort.env.versions?.common ?? 'unknown', provider: 'cpu' },
    matmulGflops: rate,
    kernels: nativeKernelStatus,
    saeWeightsMapped: canMapFiles(),
    loadSeconds,
    loadModelSeconds,
    firstTouchSeconds,
    forward10x8Ms: forwardMs,
    rssAfterLoadGiB: rssAfterLoad,
    warmupSeconds: warmSeconds,
    runs,
    comparison,
    sections: [...sections],
    ...extra,
    peakRssGiB: rss(),
  };
  const out = join(BENCH_DIR, 'report.json');
  writeFileSync(out, JSON.stringify(report, null, 2));
  console.log(JSON.stringify(report, null, 2));
  log(`wrote ${out}`);
}

await main();
