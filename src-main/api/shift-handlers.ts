/**
 * Handlers of the probe.* and shift.* channels (contract.ts, docs/shift.md). The computations
 * run in the compute worker; what they rest on (probes, circuits, judgements, datasets) and what
 * they produce are the store's, so resolving ids and saving results happen here.
 */
import type { JobRunner } from '../jobs/runner';
import type { Store } from '../store';
import { StoreError } from '../store/common';
import { Annotations } from '../store/annotations';
import { datasetFile } from '../store/inputs';
import { saveDiscovery } from '../store/save';
import { ensureShiftDemo } from '../store/shift-demo';
import type { JudgementRecord } from '../store/shift';
import type { StoredCircuit } from '../store';
import { DEMO_DIR } from '../defaults';
import type { ParsedRequest, Response } from './contract';

type ShiftChannel = 'shift.demo' | 'probe.train' | 'probe.list' | 'shift.discover' | 'shift.features' | 'shift.judge' | 'shift.judgements' | 'shift.run' | 'shift.runs';
interface Ctx {
  signal: AbortSignal;
  progress(fraction: number | null, message: string): void;
}
type ShiftHandlers = { [C in ShiftChannel]: (req: ParsedRequest<C>, ctx: Ctx) => Promise<Response<C>> };

const bad = (message: string): StoreError => new StoreError('invalid_input', message);

export function shiftHandlers(store: Store, runner: Pick<JobRunner, 'run'>, cacheDir: string, demoDir: string = DEMO_DIR): ShiftHandlers {
  const jobOpts = (ctx: Ctx) => ({ signal: ctx.signal, onProgress: ctx.progress });

  /** A stored Bias-in-Bios dataset as a file for the worker. */
  const biosFile = (datasetId: number | null, what: string): string => {
    if (datasetId === null) throw bad(`${what}: its dataset is no longer in the library`);
    const d = store.library.dataset(datasetId);
    if (d.format !== 'bios-jsonl') throw bad(`${what}: dataset '${d.name}' is not Bias in Bios data (its format is ${d.format}; SHIFT needs biographies with profession and gender)`);
    return datasetFile(store, datasetId, cacheDir).path;
  };
  const probeOf = (probeId: number) => {
    const rec = store.shift.probe(probeId);
    const w = store.shift.probeWeights(probeId);
    return { rec, params: { layer: rec.layer, weight: Array.from(w.weight), bias: w.bias }, model: store.library.model(rec.modelId) };
  };
  const saesOf = (saeSetId: number, what: string): { path: string; sha256: string; submodules: { name: string; features: number }[] | null } => {
    const set = store.library.saeSet(saeSetId);
    if (!set.path || set.layout === 'identity') throw bad(`${what}: SAE set '${set.name}' has no SAE folder (SHIFT ablates SAE features, not neurons)`);
    return { path: set.path, sha256: set.sha256, submodules: set.submodules };
  };
  /** The classifier circuit and its probe id (from its parameters.metric). */
  const classifierCircuit = (circuitId: number): { circuit: StoredCircuit; probeId: number; saeSetId: number; datasetId: number | null } => {
    const s = store.circuits.summary(circuitId);
    const circuit = store.circuits.get(circuitId);
    const metric = circuit.parameters.metric;
    if (!metric || metric.kind !== 'probe') throw bad(`circuit ${circuitId} '${s.name}' is not a classifier circuit (discover one with shift.discover)`);
    if (metric.probeId === undefined) throw bad(`circuit ${circuitId} '${s.name}' does not name the probe it was discovered with`);
    if (s.saeSetId === null) throw bad(`circuit ${circuitId} '${s.name}' has no SAE set`);
    return { circuit, probeId: metric.probeId, saeSetId: s.saeSetId, datasetId: s.datasetId };
  };
  const circuitFeatures = (c: StoredCircuit) => c.nodes.filter((n) => n.feature !== 'error').map((n) => ({ submodule: n.submodule, feature: n.feature as number, effect: n.effect }));

  return {
    async 'shift.demo'() {
      return ensureShiftDemo(store, demoDir);
    },

    async 'probe.train'({ modelId, datasetId, layer, trainSet, label, name, ...recipe }, ctx) {
      const model = store.library.model(modelId);
      const dataset = store.library.dataset(datasetId);
      const data = biosFile(datasetId, 'probe.train');
      const res = await runner.run('probe.train', { ...recipe, model: model.path, data, layer, trainSet, label, saes: null, ablate: [], forwardBatch: 64 }, jobOpts(ctx));
      return store.action(() =>
        store.shift.addProbe({
          name: name ?? `${dataset.name} resid_${layer} ${trainSet} ${label}`,
          modelId,
          datasetId,
          layer,
          seed: recipe.seed,
          trainSet,
          label,
          params: { ...recipe, examples: res.examples, data: res.dataReport },
          weight: res.probe.weight,
          bias: res.probe.bias,
          accuracy: { train: res.trainAccuracy, ...res.scores },
        }),
      );
    },
    async 'probe.list'({ modelId, datasetId }) {
      return store.shift.probes({ modelId, datasetId });
    },

    async 'shift.discover'({ probeId, saeSetId, trainSet, name, ...settings }, ctx) {
      const { rec, params, model } = probeOf(probeId);
      const saes = saesOf(saeSetId, 'shift.discover');
      const data = biosFile(rec.datasetId, `probe ${probeId}`);
      const res = await runner.run('shift.discover', { model: model.path, saes: saes.path, data, probe: params, trainSet, label: rec.label, ...settings }, jobOpts(ctx));
      const circuit = { ...res.circuit, parameters: { ...res.circuit.parameters, metric: { ...res.circuit.parameters.metric!, probeId } } };
      const summary = saveDiscovery(store, circuit, { name: name ?? `${rec.name} circuit`, explicitName: name !== undefined, modelId: rec.modelId, saeSetId, datasetId: rec.datasetId! });
      return { circuit: summary, features: res.features, examples: res.examples, notes: res.notes, seconds: res.seconds };
    },

    async 'shift.features'({ circuitId, features, scan, top, tokens }, ctx) {
      const c = classifierCircuit(circuitId);
      const { params, model } = probeOf(c.probeId);
      const saes = saesOf(c.saeSetId, `circuit ${circuitId}`);
      const data = biosFile(c.datasetId, `circuit ${circuitId}`);
      const inCircuit = circuitFeatures(c.circuit);
      const list = features ?? inCircuit.map(({ submodule, feature }) => ({ submodule, feature }));
      if (!list.length) throw bad(`circuit ${circuitId} has no features to judge`);
      const res = await runner.run('shift.features', { model: model.path, saes: saes.path, data, probe: params, features: list, scan, top, tokens }, jobOpts(ctx));
      const judged = new Map(store.shift.judgements(saes.sha256).map((j) => [`${j.submodule}/${j.feature}`, j]));
      return {
        scanned: res.scanned,
        features: res.features.map((f) => ({
          ...f,
          effect: inCircuit.find((n) => n.submodule === f.submodule && n.feature === f.feature)?.effect ?? null,
          annotation: store.annotations.get(saes.sha256, f),
          judgement: judged.get(`${f.submodule}/${f.feature}`) ?? null,
        })),
      };
    },

    async 'shift.judge'({ saeSetId, judgements }) {
      const set = store.library.saeSet(saeSetId);
      for (const j of judgements) Annotations.checkKey(set.submodules, j, `SAE set '${set.name}'`);
      store.action(() => {
        for (const j of judgements) store.shift.judge(set.sha256, j, j.decision, j.note);
      });
      return store.shift.judgements(set.sha256);
    },
    async 'shift.judgements'({ saeSetId, circuitId }) {
      if (circuitId !== undefined) {
        const s = store.circuits.summary(circuitId);
        if (s.saeSetId === null) return [];
        const keys = new Set(circuitFeatures(store.circuits.get(circuitId)).map((f) => `${f.submodule}/${f.feature}`));
        return store.shift.judgements(store.library.saeSet(s.saeSetId).sha256).filter((j) => keys.has(`${j.submodule}/${j.feature}`));
      }
      if (saeSetId === undefined) throw bad('shift.judgements: give saeSetId or circuitId');
      return store.shift.judgements(store.library.saeSet(saeSetId).sha256);
    },

    async 'shift.run'({ probeId, circuitId, saeSetId, ablate, baselines, forwardBatch, skyline, ...recipe }, ctx) {
      const { rec, params, model } = probeOf(probeId);
      let setId = saeSetId;
      let allowed: Set<string> | null = null;
      if (circuitId !== undefined) {
        const c = classifierCircuit(circuitId);
        if (setId !== undefined && setId !== c.saeSetId) throw bad(`shift.run: circuit ${circuitId} was discovered with SAE set ${c.saeSetId}, not ${setId}`);
        setId = c.saeSetId;
        allowed = new Set(circuitFeatures(c.circuit).map((f) => `${f.submodule}/${f.feature}`));
      }
      if (setId === undefined) throw bad('shift.run: give circuitId (its judged features) or saeSetId');
      const saes = saesOf(setId, 'shift.run');
      let chosen = ablate;
      let judged: JudgementRecord[] = [];
      if (!chosen) {
        judged = store.shift.judgements(saes.sha256).filter((j) => j.decision === 'ablate' && (!allowed || allowed.has(`${j.submodule}/${j.feature}`)));
        chosen = judged.map((j) => ({ submodule: j.submodule, feature: j.feature }));
        if (!chosen.length) throw bad(`shift.run: no feature${allowed ? ` of circuit ${circuitId}` : ''} is judged 'ablate' in SAE set ${setId}; judge features first (shift.judge)`);
      }
      const data = biosFile(rec.datasetId, `probe ${probeId}`);
      const res = await runner.run('shift.run', { ...recipe, model: model.path, saes: saes.path, data, probe: params, ablate: chosen, baselines, forwardBatch, skyline }, jobOpts(ctx));
      return store.action(() =>
        store.shift.addRun({ probeId, saeSetId: setId!, circuitId: circuitId ?? null, params: { ...recipe, baselines, forwardBatch, skyline, ablate: chosen, fromJudgements: !ablate }, result: res }),
      );
    },
    async 'shift.runs'({ probeId }) {
      return store.shift.runs({ probeId });
    },
  };
}
