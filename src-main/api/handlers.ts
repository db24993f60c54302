/**
 * The one place where every channel of the contract gets its handler, and the boundary where
 * every incoming message is validated. Transports (Electron IPC, WebSocket) only move bytes:
 * each connection opens an ApiSession and passes it (channel, payload) pairs untouched.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { z } from 'zod';
import { OPSET } from '../engine/onnx';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobRunner } from '../jobs/runner';
import type { Store } from '../store';
import { StoreError } from '../store/common';
import { Annotations } from '../store/annotations';
import { importFile } from '../store/import';
import { circuitFile, datasetFile } from '../store/inputs';
import { identitySaeSet, registerModel, registerSaeSet } from '../store/register';
import { saveDiscovery } from '../store/save';
import { compareCircuits } from '../view/compare';
import { hubHandlers } from './hub-handlers';
import { shiftHandlers } from './shift-handlers';
import { PAPER_THRESHOLDS } from '../circuits/evaluate';
import { splitLines } from '../data/agreement';
import { parseClusterJson } from '../data/clusters';
import {
  channels,
  isChannel,
  TEST_CHANNELS,
  type ApiError,
  type ApiErrorCode,
  type LoadReport,
  type ChannelName,
  type EventName,
  type EventPayload,
  type ParsedRequest,
  type Reply,
  type Response,
} from './contract';

export interface ApiSettings {
  /** Default model folder for model.* channels; null when none is configured. */
  model: string | null;
  /** Answer the test channels (debug.*); only hosts started for tests set this. */
  testChannels?: boolean;
  /** Jobs one connection may have queued or running at once (default 16). */
  maxJobsPerConnection?: number;
}

export interface ApiHost {
  runner: Pick<JobRunner, 'run'>;
  store: Store;
  /** Where stored datasets and circuits are written as files for the worker. */
  cacheDir: string;
  settings: ApiSettings;
  app: { name: string; version: string; host: 'electron' | 'serve' };
}

export type Emit = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

/** One connected UI (a window, a WebSocket). Closing it cancels the jobs it started. */
export interface ApiSession {
  handle(channel: unknown, payload: unknown): Promise<Reply>;
  close(): void;
}

export interface Api {
  connect(emit: Emit): ApiSession;
}

/** An error with a contract error code; anything else thrown by a handler becomes 'failed'. */
export class ApiFailure extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

interface HandlerContext {
  signal: AbortSignal;
  progress(fraction: number | null, message: string): void;
  /** Cancels a job of this session; false if it is unknown or already finished. */
  cancelJob(jobId: string): boolean;
}

type Handlers = { [C in ChannelName]: (req: ParsedRequest<C>, ctx: HandlerContext) => Promise<Response<C>> };

const PLATFORM_PROVIDER: Partial<Record<NodeJS.Platform, string>> = { linux: 'cuda', win32: 'dml', darwin: 'coreml' };


function runtimeVersion(): string | null {
  try {
    // Read at run time: onnxruntime-node stays external to the bundle (it is native).
    return (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    return null;
  }
}

export function createApi(host: ApiHost): Api {
  const { store, runner } = host;
  const modelPath = (override: string | undefined): string => {
    const m = override ?? host.settings.model;
    if (!m) {
      throw new ApiFailure('not_configured', 'No model configured: start with --model DIR, or pass "model" in the request.');
    }
    return m;
  };
  const jobOpts = (ctx: HandlerContext) => ({ signal: ctx.signal, onProgress: ctx.progress });

  /** The files a job on a stored circuit runs on: its model, SAEs and (by default) its dataset. */
  const sourcesOf = (modelId: number | null, saeSetId: number | null, datasetId: number | null | undefined, what: string) => {
    if (modelId === null) throw new ApiFailure('not_configured', `${what}: its model is not in the library; add the model folder first`);
    const model = store.library.model(modelId);
    const set = saeSetId === null ? null : store.library.saeSet(saeSetId);
    if (set && set.layout !== 'identity' && !set.path) throw new ApiFailure('not_configured', `${what}: SAE set '${set.name}' has no folder`);
    if (datasetId === null || datasetId === undefined) throw new ApiFailure('not_configured', `${what}: no dataset given and none recorded; pick a dataset`);
    const data = datasetFile(store, datasetId, host.cacheDir);
    const neurons = !set || set.layout === 'identity';
    return { model: model.path, saes: neurons ? null : set!.path, neurons, data: data.path, nopair: data.nopair };
  };

  const handlers: Handlers = {
    ...hubHandlers(store, runner),
    ...shiftHandlers(store, runner, host.cacheDir),
    async 'app.info'() {
      const extra = PLATFORM_PROVIDER[process.platform];
      return {
        ...host.app,
        engine: { runtime: 'onnxruntime-node', runtimeVersion: runtimeVersion(), opset: OPSET },
        // The worker reads the same variable (jobs/runtime.ts).
        provider: process.env.SFC_PROVIDER ?? 'cpu',
        providers: extra ? ['cpu', extra] : ['cpu'],
        model: host.settings.model,
      };
    },
    async 'job.cancel'({ jobId }, ctx) {
      return { cancelled: ctx.cancelJob(jobId) };
    },

    // ---- library ----
    async 'library.list'({ search, tag }) {
      return { ...store.library.find({ search, tag }), circuits: store.circuits.list({ search, tag }) };
    },
    async 'library.get'({ kind, id }) {
      switch (kind) {
        case 'model':
          return { kind, model: store.library.model(id) };
        case 'saeSet':
          return { kind, saeSet: store.library.saeSet(id) };
        case 'circuit':
          return { kind, circuit: store.circuits.summary(id) };
        case 'dataset': {
          const dataset = store.library.dataset(id);
          return { kind, dataset, preview: datasetPreview(store.library.datasetContent(id), dataset.format, 20) };
        }
      }
    },
    async 'library.register'({ kind, path, name, modelId }) {
      return store.action(() => (kind === 'model' ? registerModel(store, path, name) : registerSaeSet(store, path, modelId ?? null, name)));
    },
    async 'library.rename'({ kind, id, name }) {
      store.action(() => store.library.rename(kind, id, name));
      return {};
    },
    async 'library.tag'({ kind, id, tags }) {
      return { tags: store.action(() => store.library.tag(kind, id, tags)) };
    },
    async 'library.delete'({ kind, id }) {
      store.action(() => (kind === 'circuit' ? store.circuits.delete(id) : store.library.delete(kind, id)));
      return {};
    },
    async 'library.import'({ source, name, saeSetId }) {
      return importFile(store, source, { name, saeSetId });
    },

    // ---- circuits ----
    async 'circuit.get'({ id }) {
      return { summary: store.circuits.summary(id), circuit: store.circuits.get(id) as unknown as Record<string, unknown> };
    },
    async 'circuit.history'({ id }) {
      return store.circuits.history(id);
    },
    async 'circuit.edit'({ id, edit, label }) {
      return store.action(() => store.circuits.edit(id, edit, label ?? null));
    },
    async 'circuit.label'({ id, label }) {
      store.action(() => store.circuits.label(id, label));
      return {};
    },
    async 'circuit.export'({ id }) {
      const s = store.circuits.summary(id);
      return { fileName: safeFileName(`${s.name}${s.versionLabel ? ` ${s.versionLabel}` : ''} v${s.id}.json`), text: `${JSON.stringify(store.circuits.get(id), null, 1)}\n` };
    },
    async 'circuit.compare'({ a, b, threshold, topEdges }) {
      return { a, b, ...compareCircuits(store.circuits.get(a), store.circuits.get(b), { threshold, topEdges }) };
    },
    async 'circuit.results'({ id }) {
      store.circuits.summary(id);
      return {
        evaluations: store.results.forCircuit('evaluation', id) as Response<'circuit.results'>['evaluations'],
        experiments: store.results.forCircuit('experiment', id) as Response<'circuit.results'>['experiments'],
      };
    },

    // ---- annotations ----
    async 'annotation.set'({ saeSetId, submodule, feature, text, notes }) {
      const set = store.library.saeSet(saeSetId);
      Annotations.checkKey(set.submodules, { submodule, feature }, `SAE set '${set.name}'`);
      return store.action(() => store.annotations.set(set.sha256, { submodule, feature }, text, notes));
    },
    async 'annotation.forCircuit'({ circuitId }) {
      const s = store.circuits.summary(circuitId);
      if (s.saeSetId === null) return [];
      const set = store.library.saeSet(s.saeSetId);
      return store.annotations.forKeys(set.sha256, store.circuits.get(circuitId).nodes);
    },
    async 'annotation.history'({ saeSetId, submodule, feature }) {
      return store.annotations.history(store.library.saeSet(saeSetId).sha256, { submodule, feature });
    },
    async 'annotation.export'({ saeSetId }) {
      const set = store.library.saeSet(saeSetId);
      return { fileName: safeFileName(`${set.name} annotations.jsonl`), text: store.annotations.jsonl(set.sha256) };
    },

    // ---- jobs ----
    async 'model.info'({ model }, ctx) {
      return runner.run('model.info', { model: modelPath(model) }, jobOpts(ctx));
    },
    async 'model.predict'({ model, text, top }, ctx) {
      return runner.run('model.predict', { model: modelPath(model), text, top }, jobOpts(ctx));
    },
    async 'circuit.estimate'({ modelId, saeSetId, datasetId, ...settings }, ctx) {
      return runner.run('circuit.estimate', { ...settings, ...sourcesOf(modelId, saeSetId, datasetId, 'estimate') }, jobOpts(ctx));
    },
    async 'circuit.discover'({ modelId, saeSetId, datasetId, name, ...settings }, ctx) {
      const sources = sourcesOf(modelId, saeSetId, datasetId, 'discover');
      // Refuse what will not fit before loading anything big (the estimate reads only shapes).
      const est = await runner.run('circuit.estimate', { ...settings, ...sources }, jobOpts(ctx));
      if (!est.fits) throw new ApiFailure('failed', `this discovery will not fit in memory: ${est.reason}`);
      const res = await runner.run('circuit.discover', { ...settings, ...sources }, jobOpts(ctx));
      const dataset = store.library.dataset(datasetId);
      const circuit = saveDiscovery(store, res.circuit, {
        name: name ?? `${dataset.name} ${settings.method}${settings.aggregation === 'none' ? ' per position' : ''}`,
        explicitName: name !== undefined,
        modelId,
        saeSetId: saeSetId ?? identitySaeSet(store, store.library.model(modelId)).id,
        datasetId,
      });
      return { circuit, saeQuality: res.saeQuality, dataReport: res.dataReport as z.output<typeof LoadReport>, notes: res.notes, seconds: res.seconds };
    },
    async 'circuit.evaluate'({ circuitId, datasetId, thresholds, ...settings }, ctx) {
      const s = store.circuits.summary(circuitId);
      const sources = sourcesOf(s.modelId, s.saeSetId, datasetId ?? s.datasetId, `circuit ${circuitId}`);
      if (sources.nopair) {
        throw new ApiFailure('invalid_input', `evaluation needs paired data (clean and patch prefixes): dataset ${datasetId ?? s.datasetId} has no pairs; pick a paired dataset`);
      }
      const params = { ...settings, thresholds: thresholds ?? PAPER_THRESHOLDS, circuit: circuitFile(store, circuitId, host.cacheDir), model: sources.model, saes: sources.saes, data: sources.data };
      const result = await runner.run('circuit.evaluate', params, jobOpts(ctx));
      return store.action(() =>
        store.results.add('evaluation', circuitId, { ...settings, thresholds: params.thresholds, datasetId: datasetId ?? s.datasetId }, { ...result, circuit: undefined }),
      ) as Response<'circuit.evaluate'>;
    },
    async 'circuit.ablate'({ circuitId, datasetId, ...settings }, ctx) {
      const s = store.circuits.summary(circuitId);
      const sources = sourcesOf(s.modelId, s.saeSetId, datasetId ?? s.datasetId, `circuit ${circuitId}`);
      const result = await runner.run('circuit.ablate', { ...settings, ...sources }, jobOpts(ctx));
      return store.action(() => store.results.add('experiment', circuitId, { ...settings, datasetId: datasetId ?? s.datasetId }, result)) as Response<'circuit.ablate'>;
    },
    async 'feature.examples'({ circuitId, datasetId, submodule, feature, n, top }, ctx) {
      const s = store.circuits.summary(circuitId);
      const sources = sourcesOf(s.modelId, s.saeSetId, datasetId ?? s.datasetId, `circuit ${circuitId}`);
      return runner.run('feature.examples', { ...sources, n, seed: Number(s.parameters.seed ?? 12), submodule, feature, top }, jobOpts(ctx));
    },
    async 'data.generate'({ modelId, structure, seed, name }, ctx) {
      const model = store.library.model(modelId);
      const dir = mkdtempSync(join(tmpdir(), 'sfc-generate-'));
      try {
        const out = join(dir, 'train.jsonl');
        const testOut = join(dir, 'test.jsonl');
        const res = await runner.run('data.generate', { model: model.path, structure, seed, out, testOut }, jobOpts(ctx));
        const base = name ?? `${structure} (seed ${seed})`;
        return store.action(() => {
          const add = (split: string, file: string, examples: number) =>
            store.library.addDataset({ name: `${base} ${split}`, kind: 'generated', format: 'jsonl', source: `generated from ${model.name}`, content: readFileSync(file, 'utf8'), examples });
          return { train: add('train', out, res.train), test: add('test', testOut, res.test), droppedWords: res.droppedWords };
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    async 'debug.sleep'({ ms, steps }, ctx) {
      return runner.run('debug.sleep', { ms, steps }, jobOpts(ctx));
    },
  };

  return {
    connect(emit) {
      const jobs = new Map<string, AbortController>();
      const cancelJob = (jobId: string): boolean => {
        const c = jobs.get(jobId);
        c?.abort();
        return !!c;
      };

      /** Runs a handler and checks its result against the contract. */
      async function execute(name: ChannelName, req: unknown, ctx: HandlerContext): Promise<unknown> {
        const result = await (handlers[name] as (r: unknown, c: HandlerContext) => Promise<unknown>)(req, ctx);
        const checked = channels[name].response.safeParse(result);
        if (!checked.success) {
          throw new ApiFailure('internal', `'${name}' produced a response that breaks the contract: ${formatIssues(checked.error).map((i) => `${i.path}: ${i.message}`).join('; ')}`);
        }
        return checked.data;
      }

      return {
        async handle(channel, payload) {
          if (!isChannel(channel) || (TEST_CHANNELS.has(channel) && !host.settings.testChannels)) {
            return fail('bad_request', `unknown channel ${JSON.stringify(channel)}; known: ${Object.keys(channels).filter((c) => host.settings.testChannels || !TEST_CHANNELS.has(c)).join(', ')}`);
          }
          const spec = channels[channel];
          const parsed = spec.request.safeParse(payload ?? {});
          if (!parsed.success) {
            const issues = formatIssues(parsed.error);
            const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
            return { ok: false, error: { code: 'bad_request', message: `invalid request for '${channel}': ${summary}`, issues } };
          }

          if (spec.kind === 'call') {
            const ctx: HandlerContext = { signal: new AbortController().signal, progress: () => {}, cancelJob };
            try {
              return { ok: true, result: await execute(channel, parsed.data, ctx) };
            } catch (e) {
              return { ok: false, error: toApiError(e) };
            }
          }

          const limit = host.settings.maxJobsPerConnection ?? 16;
          if (jobs.size >= limit) return fail('busy', `this connection already has ${jobs.size} jobs queued or running (the limit is ${limit}); wait for one to finish or cancel one`);
          const jobId = randomUUID();
          const controller = new AbortController();
          jobs.set(jobId, controller);
          const ctx: HandlerContext = {
            signal: controller.signal,
            progress: (fraction, message) => emit('job.progress', { jobId, fraction, message }),
            cancelJob,
          };
          // Start on the next turn so the `{ jobId }` reply is sent before any job event: both
          // transports deliver in order, so a client always knows the id before its events.
          setImmediate(() => {
            // Forget the job before announcing its end, so a cancel after the end says false.
            execute(channel, parsed.data, ctx).then(
              (result) => (jobs.delete(jobId), emit('job.done', { jobId, result })),
              (e: unknown) => (jobs.delete(jobId), emit('job.failed', { jobId, error: toApiError(e) })),
            );
          });
          return { ok: true, result: { jobId } };
        },
        close() {
          for (const c of jobs.values()) c.abort();
          jobs.clear();
        },
      };
    },
  };
}

/** A name for a downloaded file: no characters that file systems refuse. */
const safeFileName = (name: string): string => name.replace(/[\\/:*?"<>|]+/g, '_');

/** The first records of a stored dataset, as written in its file. */
function datasetPreview(content: string, format: 'jsonl' | 'cluster-json' | 'bios-jsonl', count: number): Record<string, unknown>[] {
  if (format === 'jsonl' || format === 'bios-jsonl') return splitLines(content).filter((l) => l.trim() !== '').slice(0, count).map((l) => JSON.parse(l) as Record<string, unknown>);
  return parseClusterJson(content, 'dataset').slice(0, count).map((r) => ({ key: r.key, context: r.prefix, answer: r.answer }));
}

function fail(code: ApiErrorCode, message: string): Reply {
  return { ok: false, error: { code, message } };
}

function formatIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiFailure) return { code: e.code, message: e.message };
  if (e instanceof StoreError) return { code: e.code, message: e.message };
  if (e instanceof Error && e.name === 'CancelledError') return { code: 'cancelled', message: 'cancelled' };
  return { code: 'failed', message: e instanceof Error ? e.message : String(e) };
}
