/** Evaluations (sweep results) and ablation experiments, each tied to one circuit version. */
import type { Db } from './database';
import { StoreError, json, now } from './common';
import type { ResultRecord } from './records';

export type ResultKind = 'evaluation' | 'experiment';
const TABLE: Record<ResultKind, string> = { evaluation: 'evaluations', experiment: 'experiments' };

interface Row {
  id: number;
  circuit_id: number;
  params: string;
  result: string;
  created_at: string;
}
const out = (r: Row): ResultRecord => ({
  id: r.id,
  circuitId: r.circuit_id,
  params: JSON.parse(r.params) as Record<string, unknown>,
  result: JSON.parse(r.result) as Record<string, unknown>,
  createdAt: r.created_at,
});

export class Results {
  constructor(private readonly db: Db) {}

  add(kind: ResultKind, circuitId: number, params: object, result: object): ResultRecord {
    if (!this.db.prepare('SELECT 1 FROM circuits WHERE id = ?').get(circuitId)) throw new StoreError('not_found', `no circuit with id ${circuitId}`);
    const r = this.db.prepare(`INSERT INTO ${TABLE[kind]} (circuit_id, params, result, created_at) VALUES (?, ?, ?, ?) RETURNING *`).get(circuitId, json(params), json(result), now()) as Row;
    return out(r);
  }

  /** Newest first. */
  forCircuit(kind: ResultKind, circuitId: number): ResultRecord[] {
    return (this.db.prepare(`SELECT * FROM ${TABLE[kind]} WHERE circuit_id = ? ORDER BY id DESC`).all(circuitId) as Row[]).map(out);
  }

  get(kind: ResultKind, id: number): ResultRecord {
    const r = this.db.prepare(`SELECT * FROM ${TABLE[kind]} WHERE id = ?`).get(id) as Row | undefined;
    if (!r) throw new StoreError('not_found', `no ${kind} with id ${id}`);
    return out(r);
  }

  delete(kind: ResultKind, id: number): void {
    if (this.db.prepare(`DELETE FROM ${TABLE[kind]} WHERE id = ?`).run(id).changes === 0) throw new StoreError('not_found', `no ${kind} with id ${id}`);
  }
}
