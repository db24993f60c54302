/**
 * onnxruntime-node sessions for DSL graphs, cached by a caller-chosen key (one per graph shape
 * family: batch and sequence stay symbolic). Weights are fed as inputs, so one session serves
 * every model of the same architecture and no weight is copied into the session.
 */
import * as ort from 'onnxruntime-node';
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
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: providers,
      graphOptimizationLevel: (process.env.SFC_ORT_OPT as 'all') ?? 'all',
      intraOpNumThreads: this.opts.threads ?? 0,
      interOpNumThreads: 1,
      // The arena keeps every block it ever grew to; without it memory goes back after a run,
      // which keeps peak RSS near the live working set (weights dominate).
      enableCpuMemArena: process.env.SFC_ORT_ARENA === '1',
    });
    const live = new Set(session.inputNames);
    const inputs = graph.inputs.map((s) => s.attrs.name as string).filter((n) => live.has(n));
    return new CompiledGraph(key, session, inputs, graph.outputs.map((o) => o.name));
  }

  async dispose(): Promise<void> {
    for (const s of this.sessions.values()) await (await s.catch(() => null))?.session.release();
    this.sessions.clear();
  }
}
