/**
 * The benchmark's sections for what a user waits for (issue 14): `sfc --help`, the fixed cost
 * of a fresh `sfc discover` at Pythia-70M scale, warm latencies of the editor's jobs (ablate,
 * faithfulness sweep, demo discovery) and position-resolved discovery. Used by
 * discover.bench.ts (`--section`); docs/performance.md has the numbers and the method.
 *
 * Warm latencies call the worker's job handlers (jobs/circuit-jobs.ts) on the worker's runtime
 * in this process: what the compute worker runs after its first job, without the message hop.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
// @ts-expect-error: plain JavaScript next to bin/sfc.js
import { freshBundle } from '../../bin/cli-bundle.js';
import { DiscoverParams, EvaluateParams, AblateParams } from '../../src-main/api/contract';
import { ablateJob, discoverJob, evaluateJob, loadExamples } from '../../src-main/jobs/circuit-jobs';
import { noopContext } from '../../src-main/util/job-context';
import { DEMO_MODEL, DEMO_SAES, demoData } from '../../src-main/defaults';
import { nodeId, type CircuitFile, type CircuitNode } from '../../src-main/circuits/circuit-file';
import { ablationValues, answerMetric } from '../../src-main/circuits/ablation';
import { circuitMasks, evaluatedSubmodules, faithfulnessSweep } from '../../src-main/circuits/evaluate';
import type { CircuitContext } from '../../src-main/circuits/state';
import { straightforwardRunMetric } from '../reference/ablation-straightforward';
import { mulberry32 } from '../helpers/random';
import { BENCH_DIR } from './fixture';

const log = (m: string): void => console.error(m);
const rssGiB = (): number => process.resourceUsage().maxRSS / 1024 / 1024;
const root = process.cwd();

export interface Spread {
  median: number;
  min: number;
  max: number;
  all: number[];
}

export function spread(xs: number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor((s.length - 1) / 2)], min: s[0], max: s[s.length - 1], all: xs };
}

const fmt = (s: Spread, scale = 1, unit = 's', digits = 2): string =>
  `${(s.median * scale).toFixed(digits)} ${unit} (${(s.min * scale).toFixed(digits)}–${(s.max * scale).toFixed(digits)}, ${s.all.length} runs)`;
const fmtMs = (s: Spread): string => fmt(s, 1000, 'ms', 0);

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const x = await fn();
  return [x, (performance.now() - t) / 1000];
}

/**
 * A fresh `node bin/sfc.js …`: wall seconds, peak RSS (GNU time, where installed) and stdout.
 * 'built': out/cli is rebuilt first if a source changed, and the run is repeated if a source
 * changed while it ran (bin/sfc.js would have run the sources): others edit this checkout.
 * 'tsx': the sources (SFC_TSX=1).
 */
function sfc(args: string[], env: Record<string, string> = {}, cli: 'built' | 'tsx' = 'built'): { wall: number; peakGiB: number | null; stdout: string } {
  if (cli === 'tsx') return sfcOnce(args, { ...env, SFC_TSX: '1' });
  for (let attempt = 0; ; attempt++) {
    ensureCliBundle();
    const r = sfcOnce(args, env);
    if (isBundleFresh() || attempt === 3) return r;
  }
}

function sfcOnce(args: string[], env: Record<string, string>): { wall: number; peakGiB: number | null; stdout: string } {
  const entry = 'bin/sfc.js';
  const time = existsSync('/usr/bin/time');
  const cmd = time ? '/usr/bin/time' : process.execPath;
  const argv = time ? ['-f', 'maxrss %M', process.execPath, entry, ...args] : [entry, ...args];
  const t = performance.now();
  const r = spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 30 });
  const wall = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`sfc ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const m = /maxrss (\d+)/.exec(r.stderr);
  return { wall, peakGiB: m ? Number(m[1]) / 2 ** 20 : null, stdout: r.stdout };
}

const isBundleFresh = (): boolean => {
  const r = pathToFileURL(root + '/');
  return freshBundle(new URL('out/cli/', r), r) !== null;
};

/** Rebuilds out/cli when a source changed since it was built (what `npm ci` / `npm run build` leave behind). */
export function ensureCliBundle(): void {
  if (!isBundleFresh()) spawnSync(process.execPath, ['scripts/build-cli.js', '--quiet'], { cwd: root, stdio: 'inherit' });
}

// ---- sfc --help ---------------------------------------------------------------------------

export function helpSection(reps = 5): { bundle: Spread; tsx: Spread } {
  const bundle = spread(Array.from({ length: reps }, () => sfc(['--help']).wall));
  const tsx = spread(Array.from({ length: reps }, () => sfc(['--help'], {}, 'tsx').wall));
  log(`sfc --help: ${fmt(bundle)} (built CLI); ${fmt(tsx)} through tsx (SFC_TSX=1)`);
  return { bundle, tsx };
}

// ---- fixed cost of a fresh CLI discovery -----------------------------------------------------

interface FixedRun {
  config: string;
  n: number;
  batches: number;
  perBatchSeconds: number;
  parts: { process: number; load: number; firstBatchExtra: number };
  wall: number;
  jobSeconds: number;
  fixed: number;
  peakGiB: number | null;
}

/**
 * `sfc discover` in fresh processes at N = 20 and 10 (two batches and one): fixed cost = wall −
 * per-batch time × batches. The per-batch time is the second batch of the N = 20 run, from the
 * job's own timings: warm, and measured in the same minute as the wall times it is subtracted
 * from (this machine's speed swings by 2× within minutes). Also split: process (start, worker,
 * exit: wall − job), loading (model, SAEs, data), the first batch's extra over a warm one
 * (graph compilation, first runs) and the rest. Configurations: the built CLI with warm caches
 * (the usual case), with an empty cache folder (the first run on these files), and the
 * TypeScript sources with caches off.
 */
export async function fixedSection(fx: { model: string; saes: string }, data: string, reps = 2): Promise<{ runs: FixedRun[]; summary: Record<string, Spread> }> {
  const out = join(mkdtempSync(join(tmpdir(), 'sfc-bench-')), 'circuit.json');
  const warmCache = mkdtempSync(join(tmpdir(), 'sfc-bench-cache-'));
  const configs: { config: string; cli: 'built' | 'tsx'; env: () => Record<string, string> }[] = [
    { config: 'built CLI, warm caches', cli: 'built', env: () => ({ SFC_CACHE_DIR: warmCache }) },
    { config: 'built CLI, empty cache folder', cli: 'built', env: () => ({ SFC_CACHE_DIR: mkdtempSync(join(tmpdir(), 'sfc-bench-cold-')) }) },
    { config: 'sources through tsx, caches off', cli: 'tsx', env: () => ({ SFC_CACHE_DIR: 'off' }) },
  ];
  // Fill the warm cache first (hashes, optimized graphs).
  sfc(['discover', '--model', fx.model, '--saes', fx.saes, '--data', data, '--n', '10', '--out', out, '--json'], { SFC_CACHE_DIR: warmCache });
  const runs: FixedRun[] = [];
  for (let rep = 0; rep < reps; rep++) {
    for (const c of configs) {
      let perBatch = NaN;
      for (const n of [20, 10]) {
        const r = sfc(['discover', '--model', fx.model, '--saes', fx.saes, '--data', data, '--n', String(n), '--out', out, '--json'], c.env(), c.cli);
        const res = JSON.parse(r.stdout) as { seconds: number; examples: number; timings: { loadSeconds: number; batchSeconds: number[] } };
        const b = res.timings.batchSeconds;
        if (n === 20) perBatch = b[1];
        const fixed = r.wall - perBatch * b.length;
        const parts = { process: r.wall - res.seconds, load: res.timings.loadSeconds, firstBatchExtra: b[0] - perBatch };
        const run = { config: c.config, n, batches: b.length, perBatchSeconds: perBatch, wall: r.wall, jobSeconds: res.seconds, fixed, parts, peakGiB: r.peakGiB };
        runs.push(run);
        log(
          `  ${c.config}, N = ${n}: wall ${r.wall.toFixed(2)} s (job ${res.seconds.toFixed(2)} s), per batch ${perBatch.toFixed(2)} s → fixed ${fixed.toFixed(2)} s ` +
            `(process ${parts.process.toFixed(2)}, load ${parts.load.toFixed(2)}, first batch +${parts.firstBatchExtra.toFixed(2)}, rest ${(fixed - parts.process - parts.load - parts.firstBatchExtra).toFixed(2)}), peak ${r.peakGiB?.toFixed(2) ?? '?'} GiB`,
        );
      }
    }
  }
  const summary = Object.fromEntries(configs.map((c) => [c.config, spread(runs.filter((r) => r.config === c.config).map((r) => r.fixed))]));
  for (const [k, v] of Object.entries(summary)) log(`fixed cost, ${k}: ${fmt(v)}`);
  return { runs, summary };
}

// ---- warm latencies of the editor's jobs -----------------------------------------------------

/**
 * The nodes an editor would ablate: the circuit's five largest features, them plus its largest
 * error node, and its five largest error nodes (an error node needs the whole SAE at its
 * submodule, in the ablated pass and for its ablation value).
 */
function ablateNodeSets(c: CircuitFile): { label: string; nodes: { submodule: string; feature: number | 'error' }[] }[] {
  const by = [...c.nodes].sort((a, b) => Math.abs(b.effect) - Math.abs(a.effect));
  const feats = by.filter((n) => n.feature !== 'error').slice(0, 5).map((n) => ({ submodule: n.submodule, feature: n.feature }));
  const errs = by.filter((n) => n.feature === 'error').slice(0, 5).map((n) => ({ submodule: n.submodule, feature: 'error' as const }));
  return [
    { label: '5 features', nodes: feats },
    ...(errs.length ? [{ label: '5 features + 1 error node', nodes: [...feats, errs[0]] }, { label: `${errs.length} error nodes`, nodes: errs }] : []),
  ];
}

export async function ablateLatency(model: string, saes: string, data: string, circuit: CircuitFile, reps = 5): Promise<Record<string, Spread>> {
  const out: Record<string, Spread> = {};
  for (const { label, nodes } of ablateNodeSets(circuit)) {
    const params = AblateParams.parse({ model, saes, data, nopair: false, neurons: false, nodes, n: 40 });
    await ablateJob(params, noopContext); // warm
    const ts: number[] = [];
    for (let i = 0; i < reps; i++) ts.push((await timed(() => ablateJob(params, noopContext)))[1]);
    out[label] = spread(ts);
  }
  return out;
}

export const SWEEP_THRESHOLDS = Array.from({ length: 15 }, (_, i) => 10 ** (-4 + (4 * i) / 14));

export async function sweepLatency(circuitPath: string, data: string, reps = 3): Promise<Spread> {
  const params = EvaluateParams.parse({ circuit: circuitPath, model: null, saes: null, data, thresholds: SWEEP_THRESHOLDS, n: 40 });
  await evaluateJob(params, noopContext); // warm
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) ts.push((await timed(() => evaluateJob(params, noopContext)))[1]);
  return spread(ts);
}

/** Demo model: warm discovery (`--data simple`, N = 100), ablate and sweep on 40 examples, and the fresh CLI discovery. */
export async function demoSection(reps = 3): Promise<Record<string, unknown>> {
  const data = demoData('simple', 'train')!;
  const params = DiscoverParams.parse({ model: DEMO_MODEL, saes: DEMO_SAES, data, nopair: false, neurons: false, n: 100 });
  const first = await timed(() => discoverJob(params, noopContext));
  const ts: number[] = [];
  let circuit = first[0].circuit;
  for (let i = 0; i < reps; i++) {
    const [res, t] = await timed(() => discoverJob(params, noopContext));
    ts.push(t);
    circuit = res.circuit;
  }
  const discoverWarm = spread(ts);
  const path = join(BENCH_DIR, 'demo-circuit.json');
  writeFileSync(path, JSON.stringify(circuit));
  const sweep = await sweepLatency(path, demoData('simple', 'test')!, reps);
  const ablate = await ablateLatency(DEMO_MODEL, DEMO_SAES, data, circuit, 5);
  const out = join(mkdtempSync(join(tmpdir(), 'sfc-bench-')), 'circuit.json');
  sfc(['discover', '--data', 'simple', '--n', '100', '--out', out, '--json']);
  const fresh = spread(Array.from({ length: reps }, () => sfc(['discover', '--data', 'simple', '--n', '100', '--out', out, '--json']).wall));
  log(`demo: discovery N = 100 warm ${fmt(discoverWarm)} (first in this process ${first[1].toFixed(2)} s), fresh CLI ${fmt(fresh)}`);
  log(`demo: 15-threshold sweep on 40 examples ${fmtMs(sweep)}`);
  for (const [k, v] of Object.entries(ablate)) log(`demo: ablate ${k}, 40 examples: ${fmtMs(v)}`);
  return { discoverWarm, discoverFirstSeconds: first[1], freshCli: fresh, sweep, ablate, peakRssGiB: rssGiB() };
}

/**
 * A synthetic Pythia-scale circuit for the sweep: 2000 features and the error node per
 * submodule, |effects| log-uniform over [1e-5, 3.2] (errors over [1e-4, 3.2]), so each of the 15
 * thresholds keeps a different set of nodes and error nodes drop out at different thresholds.
 * `errorsAlwaysIn`: every error node above every threshold, the hardest case (an error node in
 * the circuit needs the whole SAE at its submodule in both runs of a threshold; see
 * circuits/ablated-runs.ts). Provenance and parameters come from a real discovery (`base`).
 */
export function syntheticCircuit(base: CircuitFile, features: number, opts: { perSubmodule?: number; seed?: number; errorsAlwaysIn?: boolean } = {}): CircuitFile {
  const { perSubmodule = 2000, seed = 3, errorsAlwaysIn = false } = opts;
  const rnd = mulberry32(seed);
  const nodes: CircuitNode[] = [];
  for (const { name } of base.submodules) {
    const seen = new Set<number>();
    while (seen.size < perSubmodule) seen.add(Math.floor(rnd() * features));
    for (const f of [...seen].sort((a, b) => a - b)) nodes.push({ id: nodeId(name, f), submodule: name, feature: f, effect: 10 ** (-5 + 5.5 * rnd()) * (rnd() < 0.5 ? -1 : 1) });
    const e = 10 ** (-4 + 4.5 * rnd());
    nodes.push({ id: nodeId(name, 'error'), submodule: name, feature: 'error', effect: errorsAlwaysIn ? 10 + e : e });
  }
  return { ...base, parameters: { ...base.parameters, keepAll: true, nodesOnly: true }, nodes, edges: null };
}

/**
 * Pythia scale: the sweep (job latency, and in this process against the straightforward plain
 * ablated pass, interleaved: ratio = 2·thresholds·plain / sweep) and ablate latencies.
 */
export async function pythiaLatency(ctx: CircuitContext, fx: { model: string; saes: string }, data: string, reps = 3): Promise<Record<string, unknown>> {
  // A real circuit file to take provenance from (and the ablate section's nodes).
  const params = DiscoverParams.parse({ model: fx.model, saes: fx.saes, data, nopair: false, neurons: false, n: 10, keepAll: true });
  const base = (await discoverJob(params, noopContext)).circuit;
  const circuit = syntheticCircuit(base, ctx.saes.get('resid_0')!.f);
  const path = join(BENCH_DIR, 'sweep-circuit.json');
  writeFileSync(path, JSON.stringify(circuit));
  const ablate = await ablateLatency(fx.model, fx.saes, data, circuit, 5);
  for (const [k, v] of Object.entries(ablate)) log(`Pythia: ablate ${k}, 40 examples: ${fmt(v)}`);
  const sweepJob = await sweepLatency(path, data, reps);
  log(`Pythia: 15-threshold sweep job on 40 examples ${fmt(sweepJob)}`);

  // In process: the sweep against the plain pass, same examples and values.
  const { examples } = loadExamples(ctx, data, false, 40, 12);
  const clean = ctx.model.batchFromIds(examples.map((e) => e.clean));
  const patch = ctx.model.batchFromIds(examples.map((e) => e.patch!));
  const metric = answerMetric(examples);
  const subs = evaluatedSubmodules(ctx.submodules, Math.floor(ctx.model.cfg.numLayers / 3));
  const features = new Map(subs.map((s) => [s, ctx.saes.get(s)!.f]));
  const values = await ablationValues(ctx, patch, subs, 'mean', 12);
  const sweepOpts = { ablation: 'mean' as const, forceErrors: null, seed: 12 };
  const mean = (a: Float32Array): number => a.reduce((s, v) => s + v, 0) / a.length;
  const runs = 2 * SWEEP_THRESHOLDS.length;
  const out: Record<string, unknown> = { ablate, sweepJob };
  for (const [label, c] of [['typical', circuit], ['every error node in', syntheticCircuit(base, ctx.saes.get('resid_0')!.f, { errorsAlwaysIn: true })]] as const) {
    const maskAt = (t: number) => circuitMasks(c, path, subs, features, t, 'all');
    const mid = maskAt(1e-2).mask;
    const plain: number[] = [];
    const plainWithValues: number[] = [];
    const sweep: number[] = [];
    const plainPass = async (): Promise<void> => {
      plain.push((await timed(() => straightforwardRunMetric(ctx, clean, metric, values, mid, { complement: false, forceErrors: null })))[1]);
    };
    await plainPass(); // warm
    plain.length = 0;
    let rows = null;
    for (let i = 0; i < reps; i++) {
      await plainPass();
      // ablation.py's way: every ablated run computes its own ablation values from the patch pass.
      plainWithValues.push((await timed(async () => straightforwardRunMetric(ctx, clean, metric, await ablationValues(ctx, patch, subs, 'mean', 12), mid, { complement: false, forceErrors: null })))[1]);
      const [res, t] = await timed(() => faithfulnessSweep(ctx, clean, patch, metric, subs, SWEEP_THRESHOLDS, maskAt, sweepOpts));
      sweep.push(t);
      rows = res;
      await plainPass();
    }
    const plainS = spread(plain);
    const withValuesS = spread(plainWithValues);
    const sweepS = spread(sweep);
    // Same numbers as plain passes at three thresholds.
    let maxDiff = 0;
    for (const i of [0, 7, 14]) {
      const { mask } = maskAt(SWEEP_THRESHOLDS[i]);
      const mC = mean(await straightforwardRunMetric(ctx, clean, metric, values, mask, { complement: false, forceErrors: null }));
      const mM = mean(await straightforwardRunMetric(ctx, clean, metric, values, mask, { complement: true, forceErrors: null }));
      maxDiff = Math.max(maxDiff, Math.abs(mC - rows!.rows[i].mC), Math.abs(mM - rows!.rows[i].mComplement));
    }
    const ratio = (runs * plainS.median) / sweepS.median;
    const ratioWithValues = (runs * withValuesS.median) / sweepS.median;
    log(`Pythia sweep, ${label} circuit: sweep in process ${fmt(sweepS)}; plain ablated pass ${fmt(plainS)} → ${ratio.toFixed(2)}× faster than ${runs} of them; with its own ablation values ${fmt(withValuesS)} → ${ratioWithValues.toFixed(2)}×; |m − plain| ≤ ${maxDiff.toExponential(1)}`);
    log(`   nodes kept per threshold: ${rows!.rows.map((r) => r.nodes).join(', ')}`);
    out[label] = { plainPass: plainS, plainPassWithValues: withValuesS, sweepInProcess: sweepS, ratioToPlain: ratio, ratioToPlainWithValues: ratioWithValues, maxAbsDiffToPlain: maxDiff };
  }
  return { ...out, peakRssGiB: rssGiB() };
}

// ---- position-resolved discovery ---------------------------------------------------------------

export function positionsSection(fx: { model: string; saes: string }, data: string, ns = [20, 50, 100]): { runs: { n: number; wall: number; jobSeconds: number; batchSeconds: number[]; peakGiB: number | null; nodes: number; edges: number }[] } {
  const out = join(mkdtempSync(join(tmpdir(), 'sfc-bench-')), 'circuit.json');
  const runs = [];
  for (const n of ns) {
    const r = sfc(['discover', '--model', fx.model, '--saes', fx.saes, '--data', data, '--aggregation', 'none', '--n', String(n), '--out', out, '--json']);
    const res = JSON.parse(r.stdout) as { seconds: number; examples: number; nodes: number; edges: number; timings: { batchSeconds: number[] } };
    // Linear in N means flat batches: the warm ones (all but the first) are listed with their spread.
    const warm = spread(res.timings.batchSeconds.slice(1).length ? res.timings.batchSeconds.slice(1) : res.timings.batchSeconds);
    runs.push({ n: res.examples, wall: r.wall, jobSeconds: res.seconds, batchSeconds: res.timings.batchSeconds, peakGiB: r.peakGiB, nodes: res.nodes, edges: res.edges });
    log(
      `positions (--aggregation none, 6 tokens), N = ${res.examples}: wall ${r.wall.toFixed(2)} s (job ${res.seconds.toFixed(2)} s, ${(res.seconds / res.examples).toFixed(3)} s per example; ` +
        `batches of 10: first ${res.timings.batchSeconds[0].toFixed(2)} s, then ${fmt(warm)}), peak ${r.peakGiB?.toFixed(2) ?? '?'} GiB, ${res.nodes} nodes, ${res.edges} edges`,
    );
  }
  rmSync(out, { force: true });
  return { runs };
}
