/**
 * Feature annotations, keyed by SAE set identity (its content hash) + submodule + feature, so
 * a label written once shows in every circuit that has the feature. Every change is kept in
 * annotation_history.
 */
import type { Db } from './database';
import { formatAnnotationJsonl } from '../data/annotations';
import { StoreError, now } from './common';
import type { AnnotationChange, AnnotationRecord } from './records';

export interface AnnotationKey {
  submodule: string;
  feature: number | 'error';
}

interface Row {
  sae_set: string;
  submodule: string;
  feature: string;
  text: string;
  notes: string | null;
  updated_at: string;
}

const featureOut = (f: string): number | 'error' => (f === 'error' ? 'error' : Number(f));
const out = (r: Row): AnnotationRecord => ({ saeSet: r.sae_set, submodule: r.submodule, feature: featureOut(r.feature), text: r.text, notes: r.notes, updatedAt: r.updated_at });

export class Annotations {
  constructor(private readonly db: Db) {}

  /**
   * Sets (or, with empty text, removes) one annotation and records the change. Returns the
   * annotation, or null when removed. Unchanged text and notes record nothing.
   */
  set(saeSet: string, key: AnnotationKey, text: string, notes: string | null, source = 'edit'): AnnotationRecord | null {
    const feature = String(key.feature);
    const t = text.trim();
    const n = notes?.trim() || null;
    const old = this.db.prepare('SELECT * FROM annotations WHERE sae_set = ? AND submodule = ? AND feature = ?').get(saeSet, key.submodule, feature) as Row | undefined;
    const at = now();
    if (t === '') {
      if (!old) return null;
      this.db.prepare('DELETE FROM annotations WHERE sae_set = ? AND submodule = ? AND feature = ?').run(saeSet, key.submodule, feature);
      this.record(saeSet, key.submodule, feature, null, null, source, at);
      return null;
    }
    if (old && old.text === t && old.notes === n) return out(old);
    const r = this.db
      .prepare(
        `INSERT INTO annotations (sae_set, submodule, feature, text, notes, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (sae_set, submodule, feature) DO UPDATE SET text = excluded.text, notes = excluded.notes, updated_at = excluded.updated_at
         RETURNING *`,
      )
      .get(saeSet, key.submodule, feature, t, n, at) as Row;
    this.record(saeSet, key.submodule, feature, t, n, source, at);
    return out(r);
  }

  private record(saeSet: string, submodule: string, feature: string, text: string | null, notes: string | null, source: string, at: string): void {
    this.db
      .prepare('INSERT INTO annotation_history (sae_set, submodule, feature, text, notes, source, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(saeSet, submodule, feature, text, notes, source, at);
  }

  get(saeSet: string, key: AnnotationKey): AnnotationRecord | null {
    const r = this.db.prepare('SELECT * FROM annotations WHERE sae_set = ? AND submodule = ? AND feature = ?').get(saeSet, key.submodule, String(key.feature)) as Row | undefined;
    return r ? out(r) : null;
  }

  /** Every annotation of an SAE set. */
  all(saeSet: string): AnnotationRecord[] {
    return (this.db.prepare('SELECT * FROM annotations WHERE sae_set = ? ORDER BY submodule, CAST(feature AS INTEGER)').all(saeSet) as Row[]).map(out);
  }

  /** The annotations of the given features (e.g. a circuit's nodes). */
  forKeys(saeSet: string, keys: readonly AnnotationKey[]): AnnotationRecord[] {
    const wanted = new Set(keys.map((k) => `${k.submodule}/${k.feature}`));
    return this.all(saeSet).filter((a) => wanted.has(`${a.submodule}/${a.feature}`));
  }

  /** Every annotation of an SAE set as the original's JSONL (data/annotations.ts). */
  jsonl(saeSet: string): string {
    return formatAnnotationJsonl(this.all(saeSet).map((a) => ({ submodule: a.submodule, feature: a.feature, annotation: a.text, notes: a.notes })));
  }

  history(saeSet: string, key: AnnotationKey): AnnotationChange[] {
    const rows = this.db
      .prepare('SELECT text, notes, source, changed_at FROM annotation_history WHERE sae_set = ? AND submodule = ? AND feature = ? ORDER BY id')
      .all(saeSet, key.submodule, String(key.feature)) as { text: string | null; notes: string | null; source: string; changed_at: string }[];
    return rows.map((r) => ({ text: r.text, notes: r.notes, source: r.source, changedAt: r.changed_at }));
  }

  /** Checks that a feature exists in the SAE set's known shapes (when they are known). */
  static checkKey(submodules: { name: string; features: number }[] | null, key: AnnotationKey, where: string): void {
    if (!submodules) return;
    const s = submodules.find((x) => x.name === key.submodule);
    if (!s) throw new StoreError('invalid_input', `${where}: submodule '${key.submodule}' is not in this SAE set (${submodules.map((x) => x.name).join(', ')})`);
    if (key.feature !== 'error' && (key.feature < 0 || key.feature >= s.features)) {
      throw new StoreError('invalid_input', `${where}: feature ${key.feature} is out of range for ${key.submodule} (${s.features} features)`);
    }
  }
}
