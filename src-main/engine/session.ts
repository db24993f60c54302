/**
 * onnxruntime-node sessions for DSL graphs, cached by a caller-chosen key (one per graph shape
 * family: batch and sequence stay symbolic). Weights are fed as inputs, so one session serves
 * every model of the same architecture and no weight is copied into the session.
 */
import * as ort from 'onnxruntime-node';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { arch, cpus } from 'node:os';
import { join } from 'node:path';
import { cacheDir } from '../util/cache-dir';
import type { Graph } from './graph';
import { toOnnx } from './onnx';
import { Tensor, type TensorData } from './tensor';

export type ExecutionProvider = 'cpu' | 'cuda' | 'dml' | 'coreml';

export interface EngineOptions {
  provider?: ExecutionProvider;
  threads?: number;
}

export class CompiledGraph {
  constructor(
    readonly key: string,
    readonly session: ort.InferenceSession,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
  ) {}

  async run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor<Float32Array>>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const name of this.inputNames) {
      const t = feeds[name];
      if (!t) throw new Error(`graph '${this.key}': missing input '${name}'`);
      ortFeeds[name] = new ort.Tensor(t.dtype, t.data as TensorData, t.shape as number[]);
    }
    let res: ort.InferenceSession.OnnxValueMapType;
    try {
      res = await this.session.run(ortFeeds);
    } catch (e) {
      const shapes = this.inputNames.map((n) => `${n}[${feeds[n].shape}]`).join(' ');
      throw new Error(`graph '${this.key}' failed: ${(e as Error).message} (inputs: ${shapes})`);
    }
    const out: Record<string, Tensor<Float32Array>> = {};
    for (const name of this.outputNames) {
      const r = res[name];
      out[name] = new Tensor(r.data as Float32Array, r.dims as number[]);
    }
    return out;
  }
}

export class SessionCache {
  private readonly sessions = new Map<string, Promise<CompiledGraph>>();
  constructor(private readonly opts: EngineOptions = {}) {}

  get size(): number {
    return this.sessions.size;
  }

  /** The compiled graph for `key`, building it with `build` the first time. */
  get(key: string, build: () => Graph): Promise<CompiledGraph> {
    let s = this.sessions.get(key);
    if (!s) {
      s = this.compile(key, build());
      this.sessions.set(key, s);
      s.catch(() => this.sessions.delete(key));
    }
    return s;
  }

  private async compile(key: string, graph: Graph): Promise<CompiledGraph> {
    const bytes = toOnnx(graph, key);
    const providers = this.opts.provider && this.opts.provider !== 'cpu' ? [this.opts.provider, 'cpu'] : ['cpu'];
    const level = (process.env.SFC_ORT_OPT as 'all') ?? 'all';
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: providers,
      graphOptimizationLevel: level,
      intraOpNumThreads: this.opts.threads ?? 0,
      interOpNumThreads: 1,
      // The arena keeps every block it ever grew to; without it memory goes back after a run,
      // which keeps peak RSS near the live working set (weights dominate).
      enableCpuMemArena: process.env.SFC_ORT_ARENA === '1',
    };
    const session = (providers.length === 1 && (await optimizedFromCache(bytes, level, options))) || (await ort.InferenceSession.create(bytes, options));
    const live = new Set(session.inputNames);
    const inputs = graph.inputs.map((s) => s.attrs.name as string).filter((n) => live.has(n));
    return new CompiledGraph(key, session, inputs, graph.outputs.map((o) => o.name));
  }

  async dispose(): Promise<void> {
    for (const s of this.sessions.values()) await (await s.catch(() => null))?.session.release();
    this.sessions.clear();
  }
}

/**
 * onnxruntime's graph optimization is most of a session's creation time (the fused IG tail
 * graphs at Pythia-70M shapes: 60–225 ms each, ~0.6 s per fresh worker). Its optimized model
 * is kept in the cache folder (util/cache-dir.ts) and loaded with optimization off on later
 * runs: the same optimized graph, so the same kernels and results. Keyed by the graph's bytes,
 * the onnxruntime version, the optimization level and the CPU (level 'all' writes
 * hardware-specific layouts). CPU provider only; SFC_ORT_CACHE=0 turns it off. Returns null
 * (compile as usual) on any failure.
 */
async function optimizedFromCache(bytes: Uint8Array, level: string, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession | null> {
  const root = cacheDir();
  if (!root || process.env.SFC_ORT_CACHE === '0') return null;
  const dir = join(root, 'onnx');
  const id = createHash('sha256')
    .update(`${ort.env.versions?.common ?? '?'}|${level}|${arch()}|${cpus()[0]?.model ?? '?'}|`)
    .update(bytes)
    .digest('hex')
    .slice(0, 40);
  const file = join(dir, `${id}.onnx`);
  if (existsSync(file)) {
    try {
      return await ort.InferenceSession.create(file, { ...options, graphOptimizationLevel: 'disabled' });
    } catch {
      rmSync(file, { force: true }); // unreadable (a partial copy, another version): rebuild it
    }
  }
  try {
    mkdirSync(dir, { recursive: true });
    pruneCache(dir);
    const tmp = join(dir, `${id}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
    // Warning level 3: onnxruntime warns that a level-'all' model is hardware-specific, which
    // is why the key names the CPU.
    const session = await ort.InferenceSession.create(bytes, { ...options, optimizedModelFilePath: tmp, logSeverityLevel: 3 });
    renameSync(tmp, file);
    return session;
  } catch {
    return null;
  }
}

/** At most this many optimized graphs are kept; the least recently written go first. */
const CACHE_FILES = 400;
let pruned = false;

/** Once per process: drops the oldest files beyond CACHE_FILES (tests make many one-off graphs). */
function pruneCache(dir: string): void {
  if (pruned) return;
  pruned = true;
  const files = readdirSync(dir).map((f) => join(dir, f));
  if (files.length <= CACHE_FILES) return;
  const dated = files.map((f) => ({ f, t: statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0 })).sort((a, b) => a.t - b.t);
  for (const { f } of dated.slice(0, files.length - CACHE_FILES)) rmSync(f, { force: true });
}
