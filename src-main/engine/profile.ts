/**
 * Optional stage timing and FLOP counting for benchmarks. Counted FLOPs are analytic
 * (2·m·n·k per matrix product) for the work the engine and the projections actually do.
 */
export class Profiler {
  readonly seconds = new Map<string, number>();
  readonly flops = new Map<string, number>();
  private stage = 'other';

  async time<T>(stage: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.stage;
    this.stage = stage;
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.seconds.set(stage, (this.seconds.get(stage) ?? 0) + (performance.now() - t0) / 1000);
      this.stage = prev;
    }
  }

  count(flops: number): void {
    this.flops.set(this.stage, (this.flops.get(this.stage) ?? 0) + flops);
  }
}

/** The profiler that FLOP counters report to (set by a benchmark around a run). */
export const activeProfiler: { current: Profiler | null } = { current: null };

export function countFlops(n: number): void {
  activeProfiler.current?.count(n);
}

/** Runs fn under the stage name when a profiler is given. */
export function timed<T>(p: Profiler | undefined, stage: string, fn: () => Promise<T>): Promise<T> {
  return p ? p.time(stage, fn) : fn();
}
