/**
 * Memory before a run: what the model, the dictionaries and the run will take, read from headers
 * (hub/inspect.ts) before anything big is loaded, against what this machine has. A job that
 * will not fit is refused with the numbers instead of being killed by the OS halfway through.
 * Model and SAE sets this worker already holds count as nothing more (they are in its RSS).
 */
import { freemem, totalmem } from 'node:os';
import { inspectModel, inspectSaes } from '../hub/inspect';
import { hookPointNames } from '../models/hooks';
import { runtime } from './runtime';

export interface MemoryPlan {
  /** Still to load, float32. */
  modelBytes: number;
  saeBytes: number;
  saeCount: number;
  /** The run's working memory (activations, gradients, sparse features). */
  runBytes: number;
  /** What this process holds now. */
  baseBytes: number;
  peakBytes: number;
  availableBytes: number;
  fits: boolean;
  /** A one-line account: needs and has. */
  summary: string;
  /** Where the peak comes from, in words (part of the summary). */
  parts: string;
  /** Why it will not fit, or null. */
  reason: string | null;
}

/** A fixed allowance for a run's working memory when its batch is not known (loading for any job). */
export const RUN_ALLOWANCE_BYTES = 256 * 2 ** 20;
/** Peaks above this share of what is available are refused (the OS, the UI and the page cache need the rest). */
const HEADROOM = 0.9;

const gib = (b: number): string => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(1)} GiB` : `${Math.max(1, Math.round(b / 2 ** 20))} MiB`);

/**
 * Free memory plus what this process holds, capped by a cgroup (container) limit when there is
 * one, and by SFC_MEMORY_LIMIT (bytes) when set.
 */
export function availableMemory(rss = process.memoryUsage().rss): number {
  const cgroup = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
  const user = Number(process.env.SFC_MEMORY_LIMIT);
  const caps = [cgroup && cgroup > 0 && cgroup < totalmem() ? cgroup : Infinity, Number.isFinite(user) && user > 0 ? user : Infinity];
  return Math.min(freemem() + rss, ...caps);
}

export function memoryPlan(src: { model: string; saes: string | null; neurons: boolean }, runBytes: number): MemoryPlan {
  const rt = runtime();
  const m = inspectModel(src.model);
  const modelBytes = rt.loadedModel(src.model) ? 0 : (m?.bytesLoaded ?? 0);
  let saeBytes = 0;
  let saeCount = 0;
  if (!src.neurons && src.saes && m?.layers && m.width) {
    const submodules = hookPointNames(m.layers);
    if (!rt.loadedSaes(src.saes, { submodules, d: m.width })) {
      // Unreadable or missing SAEs are the loader's to report, with its own message.
      const s = inspectSaes(src.saes, { layers: m.layers, width: m.width });
      const wanted = new Set(submodules);
      for (const h of s?.submodules ?? []) {
        if (!wanted.has(h.submodule)) continue;
        saeBytes += h.bytesLoaded;
        saeCount++;
      }
    }
  }
  const baseBytes = process.memoryUsage().rss;
  const peakBytes = baseBytes + modelBytes + saeBytes + runBytes;
  const availableBytes = availableMemory(baseBytes);
  const fits = peakBytes <= HEADROOM * availableBytes;
  const parts = [
    modelBytes ? `the model ${gib(modelBytes)}` : null,
    saeBytes ? `${saeCount} dictionaries ${gib(saeBytes)}` : null,
    `the run about ${gib(runBytes)}`,
    `${gib(baseBytes)} already in use`,
  ]
    .filter(Boolean)
    .join(', ');
  const summary = `needs about ${gib(peakBytes)} (${parts}); ${gib(availableBytes)} available`;
  return {
    modelBytes,
    saeBytes,
    saeCount,
    runBytes,
    baseBytes,
    peakBytes,
    availableBytes,
    fits,
    summary,
    parts,
    reason: fits
      ? null
      : `not enough memory: this ${summary}. Close other programs, lower the batch size, or use a machine with more memory (SFC_SKIP_MEMORY_CHECK=1 tries anyway)`,
  };
}

/** Refuses a load that will not fit (unless SFC_SKIP_MEMORY_CHECK=1); returns the plan otherwise. */
export function checkMemory(src: { model: string; saes: string | null; neurons: boolean }, runBytes = RUN_ALLOWANCE_BYTES): MemoryPlan {
  const plan = memoryPlan(src, runBytes);
  if (!plan.fits && process.env.SFC_SKIP_MEMORY_CHECK !== '1') throw new Error(plan.reason!);
  return plan;
}
