/**
 * The typed list of jobs the compute worker runs: parameters and results. The handlers are in
 * handlers.ts (worker side); JobRunner (runner.ts) is the typed caller.
 */
import type { DiscoverParams, DiscoverResult, EvaluateParams, EvaluateResult, GenerateParams } from './circuit-jobs';

export type { DiscoverParams, DiscoverResult, EvaluateParams, EvaluateResult, GenerateParams };

export interface ModelInfo {
  path: string;
  architecture: string;
  config: Record<string, number | string | boolean>;
  parameters: number;
  hookPoints: string[];
  vocabSize: number;
}

export interface TokenProb {
  id: number;
  token: string;
  prob: number;
}

export interface JobKinds {
  ping: { params: { echo: string }; result: { echo: string; pid: number } };
  /** Test helper: sleeps in small steps, checking for cancellation. */
  sleep: { params: { ms: number; steps: number }; result: { slept: number } };
  'model.info': { params: { model: string }; result: ModelInfo };
  'model.predict': { params: { model: string; text: string; top: number }; result: TokenProb[] };
  'circuit.discover': { params: DiscoverParams; result: DiscoverResult };
  'circuit.evaluate': { params: EvaluateParams; result: EvaluateResult };
  'data.generate': { params: GenerateParams; result: { train: number; test: number; droppedWords: string[] } };
}

export type JobKind = keyof JobKinds;
export type JobParams<K extends JobKind> = JobKinds[K]['params'];
export type JobResult<K extends JobKind> = JobKinds[K]['result'];
