/**
 * SHIFT judgement lists (docs/shift.md, Judgements): which circuit features a person judged
 * task-irrelevant (ablate) or task-relevant (keep), with a note. One JSON object per line, in
 * the annotation file's style:
 *
 *   {"Name": "resid_1/17", "Annotation": "'she'", "Judgement": "ablate", "Notes": "gendered pronoun"}
 *
 * `Judgement` (also `judgement` or `Decision`) is "ablate" or "keep". Lines without one carry no
 * judgement, with one exception: the original annotation file's Bias-in-Bios lines (Name and
 * Annotation only, for the 67 features of the Pythia-70M classifier circuit) stand for the
 * paper's published decisions, 55 ablated and 12 kept (PYTHIA_BIB_KEPT), and read as such.
 *
 * Pure (no Node imports).
 */
import { parseAnnotationName } from './annotations';
import { jsonObjectLines } from './common';

export type Decision = 'keep' | 'ablate';

export interface JudgementRow {
  submodule: string;
  feature: number;
  judgement: Decision;
  /** The feature's label, when the line has one. */
  annotation: string | null;
  note: string | null;
  /** 1-based line in the file. */
  line: number;
}

/** The 12 features of the Pythia-70M Bias-in-Bios circuit that the paper kept (the other 55 of its 67 were ablated). */
export const PYTHIA_BIB_KEPT: ReadonlySet<string> = new Set([
  'embed/5719', 'embed/10784', 'embed/23079', 'embed/25904', 'attn_0/23752', 'resid_0/24799', 'resid_0/31201', 'attn_1/8147', 'resid_1/17369', 'resid_1/26969', 'resid_2/14638', 'resid_2/31098',
]);

/** The 55 the paper ablated. */
export const PYTHIA_BIB_ABLATED: ReadonlySet<string> = new Set([
  ...['946', '7392', '17846', '22068', '28533', '29476', '31461', '31467', '32081', '32469'].map((f) => `embed/${f}`),
  ...['2995', '3842', '10258', '13387', '13968', '18382', '19369', '28127', '30518'].map((f) => `mlp_0/${f}`),
  ...['1022', '9651', '10060', '18967', '22084', '23898', '26504', '29626'].map((f) => `resid_0/${f}`),
  ...['24159', '25018'].map((f) => `mlp_1/${f}`),
  ...['4592', '8920', '9877', '12128', '15017', '30248'].map((f) => `resid_1/${f}`),
  ...['13570', '27472'].map((f) => `attn_2/${f}`),
  ...['1995', '9128', '11656', '12440', '29206', '29295'].map((f) => `resid_2/${f}`),
  ...['2959', '19128', '22029'].map((f) => `attn_3/${f}`),
  ...['19558', '23545', '24806', '27334', '31453'].map((f) => `resid_3/${f}`),
  'attn_4/31101',
  ...['9766', '12420', '30220'].map((f) => `resid_4/${f}`),
]);

function field(o: Record<string, unknown>, ...keys: string[]): unknown {
  for (const key of keys) {
    if (key in o) return o[key];
    const lower = key.toLowerCase();
    for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  }
  return undefined;
}

/**
 * The judgement on a parsed annotation-style object, or null when it carries none. Throws (with
 * `where`) on a judgement that is neither keep nor ablate.
 */
export function judgementOf(o: Record<string, unknown>, name: string, where: string): Decision | null {
  const j = field(o, 'Judgement', 'Judgment', 'Decision');
  if (j === undefined || j === null || j === '') {
    // The original file's Bias-in-Bios lines: Name and Annotation only.
    const keys = Object.keys(o);
    const bare = keys.every((k) => k === 'Name' || k === 'Annotation');
    if (bare && PYTHIA_BIB_KEPT.has(name)) return 'keep';
    if (bare && PYTHIA_BIB_ABLATED.has(name)) return 'ablate';
    return null;
  }
  if (typeof j !== 'string' || !['keep', 'ablate'].includes(j.trim().toLowerCase())) {
    throw new Error(`${where}: Judgement of ${name} must be "keep" or "ablate", got ${JSON.stringify(j)}`);
  }
  return j.trim().toLowerCase() as Decision;
}

/**
 * Reads a judgement list. Lines without a judgement are returned in `skipped` with the reason;
 * a line that is not JSON, a Name that is not a feature, a bad Judgement and a feature judged
 * twice are errors naming the file and line.
 */
export function parseJudgementJsonl(text: string, file: string, opts: { lenient?: boolean } = {}): { rows: JudgementRow[]; skipped: { line: number; reason: string }[] } {
  const rows: JudgementRow[] = [];
  const skipped: { line: number; reason: string }[] = [];
  const seen = new Map<string, number>();
  jsonObjectLines(text, file, 'Name and Judgement').forEach(({ line, record: rec }) => {
    const nameRaw = field(rec, 'Name');
    // Lenient (an annotation file read for its judgements): what is not a judgeable feature is skipped, not refused.
    const refuse = (msg: string): void => {
      if (!opts.lenient) throw new Error(`${file}:${line}: ${msg}`);
      skipped.push({ line, reason: msg });
    };
    if (typeof nameRaw !== 'string' || !nameRaw.trim()) return refuse('missing Name (a feature such as resid_1/17)');
    if (nameRaw === 'Name') {
      skipped.push({ line, reason: 'CSV header line (Name = "Name")' });
      return;
    }
    const parsed = parseAnnotationName(nameRaw);
    if (!parsed) return refuse(`Name '${nameRaw}' is not a feature (submodule/feature, e.g. resid_1/17)`);
    if (parsed.feature === 'error') return refuse(`${nameRaw}: an error node cannot be judged or ablated (only SAE features)`);
    const name = `${parsed.submodule}/${parsed.feature}`;
    const judgement = judgementOf(rec, name, `${file}:${line}`);
    if (!judgement) {
      skipped.push({ line, reason: `no Judgement for ${name}` });
      return;
    }
    const prev = seen.get(name);
    if (prev !== undefined && !opts.lenient) throw new Error(`${file}:${line}: ${name} is judged again (first on line ${prev})`);
    if (prev !== undefined) {
      // As annotations: a later line wins.
      skipped.push({ line: prev, reason: `replaced by line ${line} (same Name, later line wins)` });
      rows.splice(rows.findIndex((r) => r.line === prev), 1);
    }
    seen.set(name, line);
    const ann = field(rec, 'Annotation');
    const notes = field(rec, 'Notes', 'Note');
    rows.push({
      submodule: parsed.submodule,
      feature: parsed.feature,
      judgement,
      annotation: typeof ann === 'string' && ann.trim() ? ann.trim() : null,
      note: typeof notes === 'string' && notes.trim() ? notes.trim() : null,
      line,
    });
  });
  return { rows, skipped };
}

/** Writes a judgement list (one line per feature, newline-terminated). */
export function formatJudgementJsonl(rows: readonly { submodule: string; feature: number; annotation?: string | null; judgement: Decision; note?: string | null }[]): string {
  return rows
    .map((r) => JSON.stringify({ Name: `${r.submodule}/${r.feature}`, Annotation: r.annotation ?? '', Judgement: r.judgement, Notes: r.note ?? '' }) + '\n')
    .join('');
}
