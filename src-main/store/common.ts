/** Small pieces every part of the store uses. */
import type { Db } from './database';

/** A user-caused failure of a store operation; `code` maps onto the API's error codes. */
export class StoreError extends Error {
  constructor(
    readonly code: 'not_found' | 'conflict' | 'invalid_input',
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export const now = (): string => new Date().toISOString();

export const json = (v: unknown): string => JSON.stringify(v);

export function parseTags(s: string): string[] {
  return JSON.parse(s) as string[];
}

/** Normalised tags: trimmed, non-empty, unique, sorted. */
export function cleanTags(tags: readonly string[]): string[] {
  return [...new Set(tags.map((t) => t.trim()).filter((t) => t !== ''))].sort();
}

/** Runs `fn` as one IMMEDIATE transaction: one user action, all or nothing. */
export function inTransaction<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}

/** `base`, or `base (2)`, `base (3)`, … whichever is free. */
export function freeName(taken: (name: string) => boolean, base: string): string {
  if (!taken(base)) return base;
  for (let i = 2; ; i++) if (!taken(`${base} (${i})`)) return `${base} (${i})`;
}
