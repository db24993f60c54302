/**
 * The SHIFT loop (docs/shift.md, API): the demo, a probe, the classifier's circuit, the features
 * to judge, judgements saved as they change, and the run with its table. Part of the actions
 * (state/actions.ts): only actions talk to the API.
 */
import type { ActionParts } from './hub-actions';
import { startJob } from './history';
import type { Decision, ShiftFeature, ShiftState } from './types';

export const featureKey = (f: { submodule: string; feature: number }): string => `${f.submodule}/${f.feature}`;

export function createShiftActions({ get, set, call, runJob, cancel, refreshLibrary, message, cancelled }: ActionParts) {
  const shift = (patch: Partial<ShiftState>): void => set({ shift: { ...get().shift, ...patch } });
  const fail = (step: NonNullable<ShiftState['error']>['step'], e: unknown, what: string): void =>
    shift({ error: { step, text: cancelled(e) ? 'Cancelled; nothing was saved.' : `${what}: ${message(e)}` } });

  async function loadFeatures(circuitId: number): Promise<void> {
    shift({ featuresJob: startJob(Date.now()), features: null, error: null });
    try {
      // Four contexts of ten tokens either side are enough to judge by; more makes a long list longer.
      const r = await runJob(null, 'shift.features', 'shift.features', { circuitId, top: 4, tokens: 10 }, (j) => shift({ featuresJob: j }));
      const features = [...r.features].sort((a, b) => (b.effect ?? 0) - (a.effect ?? 0));
      const judgements = new Map<string, { decision: Decision; note: string }>();
      for (const f of features) judgements.set(featureKey(f), { decision: f.judgement?.decision ?? null, note: f.judgement?.note ?? '' });
      shift({ featuresJob: null, features, judgements });
    } catch (e) {
      shift({ featuresJob: null });
      fail('features', e, 'Could not load the features');
    }
  }

  /** Saves decisions (and notes) for some features; the list shows them at once. */
  async function judge(list: { f: Pick<ShiftFeature, 'submodule' | 'feature'>; decision: Decision; note: string }[]): Promise<void> {
    const demo = get().shift.demo;
    const saeSetId = get().shift.circuit?.saeSetId ?? demo?.saeSet.id;
    if (!saeSetId || !list.length) return;
    const judgements = new Map(get().shift.judgements);
    for (const j of list) judgements.set(featureKey(j.f), { decision: j.decision, note: j.note });
    shift({ judgements });
    try {
      await call('shift.judge', { saeSetId, judgements: list.map((j) => ({ submodule: j.f.submodule, feature: j.f.feature, decision: j.decision, note: j.note.trim() ? j.note.trim() : null })) });
    } catch (e) {
      shift({ error: { step: 'features', text: `The judgement was not saved: ${message(e)}` } });
    }
  }

  return {
    async useShiftDemo(): Promise<void> {
      shift({ demoLoading: true, error: null });
      try {
        const demo = await call('shift.demo', {});
        if (!demo) {
          shift({ demoLoading: false, error: { step: 'demo', text: 'The SHIFT demo is not built in this installation (resources/demo/shift/).' } });
          return;
        }
        // A probe trained earlier on the same model and data is picked up, with its latest run.
        const probes = await call('probe.list', { modelId: demo.model.id, datasetId: demo.dataset.id });
        const probe = probes.filter((p) => p.trainSet === 'ambiguous' && p.label === 'profession' && p.layer === demo.defaults.layer).sort((a, b) => b.id - a.id)[0] ?? null;
        const run = probe ? ((await call('shift.runs', { probeId: probe.id }))[0] ?? null) : null;
        // ... and the newest circuit discovered with that probe, to judge on.
        const circuits = probe ? (await call('library.list', {})).circuits : [];
        const circuit = circuits.filter((c) => (c.parameters as { metric?: { probeId?: number } }).metric?.probeId === probe?.id).sort((a, b) => b.id - a.id)[0] ?? null;
        shift({ demo, demoLoading: false, probe, circuit, run });
        void refreshLibrary();
        if (circuit) await loadFeatures(circuit.id);
      } catch (e) {
        shift({ demoLoading: false });
        fail('demo', e, 'Could not open the SHIFT demo');
      }
    },
    async trainProbe(): Promise<void> {
      const { demo, probeJob } = get().shift;
      if (!demo || probeJob) return;
      shift({ probeJob: startJob(Date.now()), error: null });
      try {
        const probe = await runJob(null, 'probe.train', 'probe.train', { modelId: demo.model.id, datasetId: demo.dataset.id, layer: demo.defaults.layer, batchSize: demo.defaults.probeBatchSize }, (j) => shift({ probeJob: j }));
        // A new probe makes the old circuit and run stale.
        shift({ probeJob: null, probe, circuit: null, discovery: null, features: null, run: null });
      } catch (e) {
        shift({ probeJob: null });
        fail('probe', e, 'Training failed');
      }
    },
    cancelProbe: () => cancel('probe.train'),
    async discoverShift(): Promise<void> {
      const { demo, probe, discoverJob } = get().shift;
      if (!demo || !probe || discoverJob) return;
      shift({ discoverJob: startJob(Date.now()), error: null });
      try {
        const discovery = await runJob(null, 'shift.discover', 'shift.discover', { probeId: probe.id, saeSetId: demo.saeSet.id, threshold: demo.defaults.threshold }, (j) => shift({ discoverJob: j }));
        shift({ discoverJob: null, circuit: discovery.circuit, discovery, features: null, run: null });
        void refreshLibrary();
        await loadFeatures(discovery.circuit.id);
      } catch (e) {
        shift({ discoverJob: null });
        fail('discover', e, 'Discovery failed');
      }
    },
    cancelShiftDiscover: () => cancel('shift.discover'),
    cancelShiftFeatures: () => cancel('shift.features'),
    judge,
    /** Sets every listed feature to keep (notes stay): the reset before judging again. */
    markAllKeep(): Promise<void> {
      const { features, judgements } = get().shift;
      return judge((features ?? []).map((f) => ({ f, decision: 'keep' as const, note: judgements.get(featureKey(f))?.note ?? '' })));
    },
    async runShift(): Promise<void> {
      const { demo, probe, circuit, runJob: running } = get().shift;
      if (!demo || !probe || !circuit || running) return;
      shift({ runJob: startJob(Date.now()), error: null });
      try {
        // The demo's probe batch size also makes SHIFT + retrain's head (same recipe as the probe).
        const run = await runJob(null, 'shift.run', 'shift.run', { probeId: probe.id, circuitId: circuit.id, batchSize: demo.defaults.probeBatchSize }, (j) => shift({ runJob: j }));
        shift({ runJob: null, run });
      } catch (e) {
        shift({ runJob: null });
        fail('run', e, 'SHIFT failed');
      }
    },
    cancelShiftRun: () => cancel('shift.run'),
  };
}
