/**
 * The SHIFT demo (resources/demo/shift, docs/shift.md) in the library: its model, SAEs,
 * biographies and judgement list, registered when SHIFT is first used (the `shift.demo` channel,
 * the `sfc probe` / `sfc shift` commands). It is not registered at every start like the
 * agreement demo: the library's first start stays one model and one SAE set, which is what the
 * annotation import's "the only SAE set" default and the first-start views rely on.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBiasInBios } from '../data/bias-in-bios';
import { parseJudgementJsonl } from '../data/judgements';
import type { Store } from './index';
import type { DatasetRecord, ModelRecord, SaeSetRecord } from './records';
import { registerModel, registerSaeSet } from './register';

export const SHIFT_DEMO_DATASET = 'SHIFT demo biographies';

/** The demo's settings, from its metrics.json recipe (what `npm run demo:train:shift` used). */
export interface ShiftDemoDefaults {
  layer: number;
  threshold: number;
  probeBatchSize: number;
}

export function shiftDemoDefaults(shiftDir: string): ShiftDemoDefaults {
  const m = JSON.parse(readFileSync(join(shiftDir, 'metrics.json'), 'utf8')) as { recipe: { probe: { layer: number; batchSize: number }; discovery: { threshold: number } } };
  return { layer: m.recipe.probe.layer, threshold: m.recipe.discovery.threshold, probeBatchSize: m.recipe.probe.batchSize };
}

/**
 * Registers the SHIFT demo once (idempotent: content hashes and the dataset name find what is
 * there). Its judgement list and labels are imported only while the SAE set has no judgements,
 * so a person's own judgements are never overwritten. Null when the demo is not built.
 */
export function ensureShiftDemo(store: Store, demoDir: string): { model: ModelRecord; saeSet: SaeSetRecord; dataset: DatasetRecord; defaults: ShiftDemoDefaults } | null {
  const dir = join(demoDir, 'shift');
  if (!existsSync(join(dir, 'model', 'config.json'))) return null;
  const defaults = shiftDemoDefaults(dir);
  return store.action(() => {
    const model = registerModel(store, join(dir, 'model'), 'SHIFT demo model');
    const saeSet = registerSaeSet(store, join(dir, 'saes'), model.id, 'SHIFT demo SAEs');
    const dataFile = join(dir, 'data', 'bios.jsonl');
    let dataset = store.library.datasets().find((d) => d.name === SHIFT_DEMO_DATASET);
    if (!dataset) {
      const content = readFileSync(dataFile, 'utf8');
      const data = parseBiasInBios(content, dataFile);
      dataset = store.library.addDataset({ name: SHIFT_DEMO_DATASET, kind: 'demo', format: 'bios-jsonl', source: 'resources/demo/shift/data/bios.jsonl', content, examples: data.train.rows.length + data.test.rows.length });
    }
    const judgements = join(dir, 'judgements.jsonl');
    if (existsSync(judgements) && store.shift.judgements(saeSet.sha256).length === 0) {
      for (const r of parseJudgementJsonl(readFileSync(judgements, 'utf8'), judgements).rows) {
        store.shift.judge(saeSet.sha256, r, r.judgement, r.note, 'demo');
        if (r.annotation && !store.annotations.get(saeSet.sha256, r)) store.annotations.set(saeSet.sha256, r, r.annotation, null, 'demo');
      }
    }
    return { model, saeSet, dataset, defaults };
  });
}
