/**
 * The original's feature annotation files (JSON Lines, one labelled feature per line; the
 * format and its quirks are described in docs/figures.md §Annotation files): reader and writer.
 *
 * The reader follows the original's rule, Name → Annotation, and tolerates what the shipped
 * files contain: a stray CSV header line, duplicate names, `Layer` as an integer, lines with only
 * Name and Annotation, a lower-case `notes` key, lines without an Annotation. What it does not
 * take is listed in `skipped` with the line and the reason; a line that is not JSON at all is an
 * error naming the file and line.
 *
 * Pure (no Node imports): the store imports files with it and the renderer may use it too.
 */
import { jsonObjectLines } from './common';

export interface AnnotationRow {
  /** Position-free node name, `resid_5/3036`, `embed/946`, `mlp_0/error`. */
  name: string;
  submodule: string;
  feature: number | 'error';
  annotation: string;
  /** Annotator notes; null when absent or empty. */
  notes: string | null;
  /** 1-based line in the file. */
  line: number;
}

export interface AnnotationParseResult {
  rows: AnnotationRow[];
  skipped: { line: number; reason: string }[];
  /** Lines kept, but with something odd (Component/Layer/Feature disagreeing with Name). */
  warnings: { line: number; message: string }[];
}

/**
 * `resid_5/3036`, `embed/946`, `mlp_0/ε` or `mlp_0/error` (the error node), optionally with a
 * position (`3, attn_2/13570` as the original's position-aligned names, or `attn_2/13570@3`),
 * which annotations ignore.
 */
const NAME = /^(?:\d+\s*,\s*)?([A-Za-z][\w.-]*)\/(\d+|error|ε)(?:@\d+)?$/;

/** The submodule and feature a Name refers to, or null when it is not a node name. */
export function parseAnnotationName(name: string): { submodule: string; feature: number | 'error' } | null {
  const m = NAME.exec(name.trim());
  if (!m) return null;
  const feature = m[2] === 'error' || m[2] === 'ε' ? 'error' : Number(m[2]);
  if (feature !== 'error' && !Number.isSafeInteger(feature)) return null;
  return { submodule: m[1], feature };
}

/** Reads a field by its exact name, else case-insensitively (`notes` on some Gemma lines). */
function field(o: Record<string, unknown>, key: string): unknown {
  if (key in o) return o[key];
  const lower = key.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  return undefined;
}

const asText = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : null);

export function parseAnnotationJsonl(text: string, file: string): AnnotationParseResult {
  const rows: AnnotationRow[] = [];
  const skipped: { line: number; reason: string }[] = [];
  const warnings: { line: number; message: string }[] = [];
  const byName = new Map<string, number>(); // name → index in rows
  jsonObjectLines(text, file, 'Name and Annotation').forEach(({ line, record: rec }) => {
    const name = asText(field(rec, 'Name'))?.trim() ?? '';
    const annotationRaw = field(rec, 'Annotation');
    // The header row of the spreadsheet the file was exported from: every value is its key.
    if (name === 'Name' && (annotationRaw === 'Annotation' || annotationRaw === undefined)) {
      skipped.push({ line, reason: 'CSV header line (Name = "Name")' });
      return;
    }
    if (!name) {
      skipped.push({ line, reason: 'no Name' });
      return;
    }
    const parsed = parseAnnotationName(name);
    if (!parsed) {
      skipped.push({ line, reason: `Name '${name}' is not a node name (submodule/feature, e.g. resid_5/3036)` });
      return;
    }
    if (annotationRaw === undefined || annotationRaw === null) {
      skipped.push({ line, reason: `no Annotation for ${name}` });
      return;
    }
    const annotation = asText(annotationRaw)?.trim();
    if (annotation === undefined) {
      skipped.push({ line, reason: `Annotation of ${name} is not text` });
      return;
    }
    if (annotation === '') {
      skipped.push({ line, reason: `empty Annotation for ${name}` });
      return;
    }
    const notesText = asText(field(rec, 'Notes'));
    const notes = notesText && notesText.trim() !== '' ? notesText : null;

    // Component / Layer / Feature are redundant with Name; Layer is a string, once an integer.
    const comp = asText(field(rec, 'Component'));
    const layer = asText(field(rec, 'Layer'));
    const feat = asText(field(rec, 'Feature'));
    if (comp !== null && comp !== '') {
      const expect = comp === 'embed' || layer === null || layer === '' ? comp : `${comp}_${layer}`;
      if (expect !== parsed.submodule) warnings.push({ line, message: `Component/Layer say '${expect}' but Name says '${parsed.submodule}'; Name wins` });
    }
    if (feat !== null && feat !== '' && feat !== String(parsed.feature) && !(parsed.feature === 'error' && (feat === 'ε' || feat === 'error'))) {
      warnings.push({ line, message: `Feature says '${feat}' but Name says '${parsed.feature}'; Name wins` });
    }

    const key = `${parsed.submodule}/${parsed.feature}`;
    const row: AnnotationRow = { name: key, submodule: parsed.submodule, feature: parsed.feature, annotation, notes, line };
    const prev = byName.get(key);
    if (prev === undefined) {
      byName.set(key, rows.length);
      rows.push(row);
      return;
    }
    const old = rows[prev];
    if (old.annotation === annotation && (notes === null || notes === old.notes)) {
      skipped.push({ line, reason: `duplicate of line ${old.line} (same Name and Annotation)` });
      return;
    }
    // A later line with a different label wins, as in the original's dict.
    skipped.push({ line: old.line, reason: `replaced by line ${line} (same Name, later line wins)` });
    rows[prev] = row;
  });
  skipped.sort((a, b) => a.line - b.line);
  return { rows, skipped, warnings };
}

/** What the writer needs of a row; `name` is derived from submodule and feature. */
export interface AnnotationOut {
  submodule: string;
  feature: number | 'error';
  annotation: string;
  notes?: string | null;
}

/** Python's json.dumps layout (`{"k": "v", "k2": "v2"}`), as the original files are written. */
function pyJson(entries: [string, string][]): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')}}`;
}

/**
 * Writes annotation JSONL with the original's field names and order (Component, Layer,
 * Feature, Name, Annotation, Notes; all strings, Layer "" for embed), one line per row,
 * newline-terminated. The error node is written `submodule/error`, as circuit node ids are.
 */
export function formatAnnotationJsonl(rows: readonly AnnotationOut[]): string {
  return rows
    .map((r) => {
      const m = /^(attn|mlp|resid)_(\d+)$/.exec(r.submodule);
      const component = m ? m[1] : r.submodule;
      const layer = m ? m[2] : '';
      const feature = String(r.feature);
      return (
        pyJson([
          ['Component', component],
          ['Layer', layer],
          ['Feature', feature],
          ['Name', `${r.submodule}/${feature}`],
          ['Annotation', r.annotation],
          ['Notes', r.notes ?? ''],
        ]) + '\n'
      );
    })
    .join('');
}

/** Name → label, the look-up the plots use (`nodeLabel` in src-main/view). */
export function annotationMap(rows: readonly Pick<AnnotationRow, 'name' | 'annotation'>[]): Map<string, string> {
  return new Map(rows.map((r) => [r.name, r.annotation]));
}
