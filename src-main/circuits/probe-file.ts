/**
 * The probe file `sfc probe train` writes and `sfc shift …` reads (docs/shift.md, Files): the
 * probe layer, its head, how it was trained and how well it does.
 */
import { z } from 'zod';

export const PROBE_FORMAT = 'sfc-probe';

const finite = z.number().refine(Number.isFinite, { message: 'must be a finite number' });
const FileHash = z.object({ path: z.string(), sha256: z.string() });

export const ProbeFileSchema = z.object({
  format: z.literal(PROBE_FORMAT),
  version: z.literal(1),
  createdAt: z.string(),
  /** The probe reads resid_<layer>, mean-pooled over the real tokens. */
  layer: z.number().int().min(0),
  weight: z.array(finite).min(1),
  bias: finite,
  trainSet: z.enum(['ambiguous', 'balanced']),
  label: z.enum(['profession', 'gender']),
  /** Features zero-ablated while training (a SHIFT + retrain probe); empty for a plain probe. */
  ablated: z.array(z.object({ submodule: z.string(), feature: z.number().int().min(0) })),
  recipe: z.object({ seed: z.number().int(), lr: finite, epochs: z.number().int(), batchSize: z.number().int(), weightDecay: finite }),
  accuracy: z.record(z.string(), z.unknown()),
  provenance: z.object({ model: FileHash, data: FileHash }),
});
export type ProbeFile = z.infer<typeof ProbeFileSchema>;

/** Parses a probe file's JSON; every complaint names `file` and the field. */
export function validateProbeFile(raw: unknown, file: string): ProbeFile {
  if (!raw || typeof raw !== 'object' || (raw as { format?: unknown }).format !== PROBE_FORMAT) {
    throw new Error(`${file}: not a probe file (expected "format": "${PROBE_FORMAT}", as \`sfc probe train\` writes)`);
  }
  const r = ProbeFileSchema.safeParse(raw, { error: (iss) => (iss.input === undefined ? 'missing' : undefined) });
  if (!r.success) throw new Error(`${file}: ${r.error.issues.slice(0, 6).map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}`);
  return r.data;
}
