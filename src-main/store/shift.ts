/**
 * SHIFT in the store (docs/shift.md, The store): probes with their weights and accuracy,
 * judgements of features (keep / ablate + note, keyed by SAE set hash + submodule + feature, the
 * key of annotations, so a judgement shows wherever the feature does), and SHIFT runs.
 */
import { z } from 'zod';
import type { Db } from './database';
import { StoreError, json, now } from './common';

const id = z.number().int().positive();

export const ProbeRecord = z.object({
  id,
  name: z.string(),
  modelId: id,
  datasetId: id.nullable(),
  layer: z.number().int(),
  seed: z.number().int(),
  trainSet: z.enum(['ambiguous', 'balanced']),
  label: z.enum(['profession', 'gender']),
  params: z.record(z.string(), z.unknown()),
  /** Train accuracy and the test-set scores (profession, gender, worst group, ambiguous). */
  accuracy: z.record(z.string(), z.unknown()),
  /** Width of the residual stream (number of weights). */
  dim: z.number().int(),
  createdAt: z.string(),
});
export type ProbeRecord = z.output<typeof ProbeRecord>;

export const JudgementRecord = z.object({
  saeSet: z.string(),
  submodule: z.string(),
  feature: z.number().int().nonnegative(),
  decision: z.enum(['keep', 'ablate']),
  note: z.string().nullable(),
  source: z.string(),
  updatedAt: z.string(),
});
export type JudgementRecord = z.output<typeof JudgementRecord>;

export const ShiftRunRecord = z.object({
  id,
  probeId: id,
  saeSetId: id,
  circuitId: id.nullable(),
  params: z.record(z.string(), z.unknown()),
  result: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});
export type ShiftRunRecord = z.output<typeof ShiftRunRecord>;

interface ProbeRow {
  id: number;
  name: string;
  model_id: number;
  dataset_id: number | null;
  layer: number;
  seed: number;
  train_set: 'ambiguous' | 'balanced';
  label: 'profession' | 'gender';
  params: string;
  weights: Buffer;
  accuracy: string;
  created_at: string;
}
interface JudgementRow {
  sae_set: string;
  submodule: string;
  feature: string;
  decision: 'keep' | 'ablate';
  note: string | null;
  source: string;
  updated_at: string;
}
interface RunRow {
  id: number;
  probe_id: number;
  sae_set_id: number;
  circuit_id: number | null;
  params: string;
  result: string;
  created_at: string;
}

const probeOut = (r: ProbeRow): ProbeRecord => ({
  id: r.id,
  name: r.name,
  modelId: r.model_id,
  datasetId: r.dataset_id,
  layer: r.layer,
  seed: r.seed,
  trainSet: r.train_set,
  label: r.label,
  params: JSON.parse(r.params) as Record<string, unknown>,
  accuracy: JSON.parse(r.accuracy) as Record<string, unknown>,
  dim: r.weights.length / 4 - 1,
  createdAt: r.created_at,
});
const judgementOut = (r: JudgementRow): JudgementRecord => ({ saeSet: r.sae_set, submodule: r.submodule, feature: Number(r.feature), decision: r.decision, note: r.note, source: r.source, updatedAt: r.updated_at });
const runOut = (r: RunRow): ShiftRunRecord => ({
  id: r.id,
  probeId: r.probe_id,
  saeSetId: r.sae_set_id,
  circuitId: r.circuit_id,
  params: JSON.parse(r.params) as Record<string, unknown>,
  result: JSON.parse(r.result) as Record<string, unknown>,
  createdAt: r.created_at,
});

/** float32 little-endian: the weights then the bias (what the `weights` column holds). */
export function encodeProbe(weight: ArrayLike<number>, bias: number): Buffer {
  const buf = Buffer.alloc((weight.length + 1) * 4);
  for (let i = 0; i < weight.length; i++) buf.writeFloatLE(weight[i], i * 4);
  buf.writeFloatLE(bias, weight.length * 4);
  return buf;
}

export function decodeProbe(buf: Buffer): { weight: Float32Array; bias: number } {
  const n = buf.length / 4 - 1;
  const weight = new Float32Array(n);
  for (let i = 0; i < n; i++) weight[i] = buf.readFloatLE(i * 4);
  return { weight, bias: buf.readFloatLE(n * 4) };
}

export interface NewProbe {
  name: string;
  modelId: number;
  datasetId: number | null;
  layer: number;
  seed: number;
  trainSet: 'ambiguous' | 'balanced';
  label: 'profession' | 'gender';
  params: object;
  weight: ArrayLike<number>;
  bias: number;
  accuracy: object;
}

export class ShiftStore {
  constructor(private readonly db: Db) {}

  // ---- probes ----
  addProbe(p: NewProbe): ProbeRecord {
    if (!p.weight.length) throw new StoreError('invalid_input', `probe '${p.name}': no weights`);
    for (let i = 0; i < p.weight.length; i++) if (!Number.isFinite(p.weight[i])) throw new StoreError('invalid_input', `probe '${p.name}': weight ${i} is not finite`);
    if (!Number.isFinite(p.bias)) throw new StoreError('invalid_input', `probe '${p.name}': the bias is not finite`);
    const r = this.db
      .prepare('INSERT INTO probes (name, model_id, dataset_id, layer, seed, train_set, label, params, weights, accuracy, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *')
      .get(p.name, p.modelId, p.datasetId, p.layer, p.seed, p.trainSet, p.label, json(p.params), encodeProbe(p.weight, p.bias), json(p.accuracy), now()) as ProbeRow;
    return probeOut(r);
  }
  probe(probeId: number): ProbeRecord {
    return probeOut(this.probeRow(probeId));
  }
  /** The probe's weights and bias. */
  probeWeights(probeId: number): { weight: Float32Array; bias: number } {
    return decodeProbe(this.probeRow(probeId).weights);
  }
  private probeRow(probeId: number): ProbeRow {
    const r = this.db.prepare('SELECT * FROM probes WHERE id = ?').get(probeId) as ProbeRow | undefined;
    if (!r) throw new StoreError('not_found', `no probe with id ${probeId}`);
    return r;
  }
  probes(filter: { modelId?: number; datasetId?: number } = {}): ProbeRecord[] {
    return (this.db.prepare('SELECT * FROM probes ORDER BY id').all() as ProbeRow[])
      .filter((r) => (filter.modelId === undefined || r.model_id === filter.modelId) && (filter.datasetId === undefined || r.dataset_id === filter.datasetId))
      .map(probeOut);
  }
  deleteProbe(probeId: number): void {
    if (this.db.prepare('DELETE FROM probes WHERE id = ?').run(probeId).changes === 0) throw new StoreError('not_found', `no probe with id ${probeId}`);
  }

  // ---- judgements ----
  /** Sets (or, with decision null, removes) one judgement; returns it, or null when removed. */
  judge(saeSet: string, key: { submodule: string; feature: number }, decision: 'keep' | 'ablate' | null, note: string | null, source = 'edit'): JudgementRecord | null {
    const feature = String(key.feature);
    if (decision === null) {
      this.db.prepare('DELETE FROM judgements WHERE sae_set = ? AND submodule = ? AND feature = ?').run(saeSet, key.submodule, feature);
      return null;
    }
    const r = this.db
      .prepare(
        `INSERT INTO judgements (sae_set, submodule, feature, decision, note, source, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (sae_set, submodule, feature) DO UPDATE SET decision = excluded.decision, note = excluded.note, source = excluded.source, updated_at = excluded.updated_at
         RETURNING *`,
      )
      .get(saeSet, key.submodule, feature, decision, note?.trim() || null, source, now()) as JudgementRow;
    return judgementOut(r);
  }
  /** Every judgement of an SAE set, in model-independent order (submodule, feature). */
  judgements(saeSet: string): JudgementRecord[] {
    return (this.db.prepare('SELECT * FROM judgements WHERE sae_set = ? ORDER BY submodule, CAST(feature AS INTEGER)').all(saeSet) as JudgementRow[]).map(judgementOut);
  }

  // ---- runs ----
  addRun(r: { probeId: number; saeSetId: number; circuitId: number | null; params: object; result: object }): ShiftRunRecord {
    this.probeRow(r.probeId);
    const row = this.db
      .prepare('INSERT INTO shift_runs (probe_id, sae_set_id, circuit_id, params, result, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *')
      .get(r.probeId, r.saeSetId, r.circuitId, json(r.params), json(r.result), now()) as RunRow;
    return runOut(row);
  }
  run(runId: number): ShiftRunRecord {
    const r = this.db.prepare('SELECT * FROM shift_runs WHERE id = ?').get(runId) as RunRow | undefined;
    if (!r) throw new StoreError('not_found', `no SHIFT run with id ${runId}`);
    return runOut(r);
  }
  /** Newest first. */
  runs(filter: { probeId?: number } = {}): ShiftRunRecord[] {
    const rows = filter.probeId === undefined ? this.db.prepare('SELECT * FROM shift_runs ORDER BY id DESC').all() : this.db.prepare('SELECT * FROM shift_runs WHERE probe_id = ? ORDER BY id DESC').all(filter.probeId);
    return (rows as RunRow[]).map(runOut);
  }
}
