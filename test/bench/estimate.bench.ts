/**
 * `npm run bench:estimate`: the estimate shown before a discovery against the discovery it
 * predicts, on the demo model, each in a fresh worker (so loading is part of both).
 */
import { JobRunner } from '../../src-main/jobs/runner';
import { DEMO_MODEL, DEMO_SAES, demoData } from '../../src-main/defaults';
import { DiscoverParams } from '../../src-main/api/contract';

const runs = [
  { label: 'simple, ig, edges, N = 100', data: 'simple', settings: {} },
  { label: 'nounpp, ig, edges, N = 100', data: 'nounpp', settings: {} },
  { label: 'rc, ig, per position, nodes only, N = 200', data: 'rc', settings: { aggregation: 'none', nodesOnly: true, n: 200 } },
];

for (const r of runs) {
  const params = DiscoverParams.parse({ model: DEMO_MODEL, saes: DEMO_SAES, data: demoData(r.data, 'train'), nopair: false, neurons: false, ...r.settings });
  const runner = new JobRunner();
  const est = await runner.run('circuit.estimate', params);
  const t0 = performance.now();
  const res = await runner.run('circuit.discover', params);
  const wall = (performance.now() - t0) / 1000;
  const rss = process.memoryUsage().rss;
  await runner.close();
  console.log(
    `${r.label}: predicted ${est.seconds.toFixed(2)} s, measured ${wall.toFixed(2)} s (job ${res.seconds.toFixed(2)} s); ` +
      `predicted peak ${(est.peakBytes / 2 ** 20).toFixed(0)} MiB (process RSS after: ${(rss / 2 ** 20).toFixed(0)} MiB); MatMul ${est.gflops.toFixed(0)} GFLOP/s, ${est.tokens} tokens`,
  );
}
