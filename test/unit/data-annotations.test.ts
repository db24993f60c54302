/**
 * The original's annotation JSONL: one small fixture per quirk of the shipped files (stray CSV
 * header, duplicates, integer Layer, Name+Annotation-only lines, lower-case notes, lines without
 * an Annotation), broken lines, and the writer's field names. The real file is read too when the
 * shared data folder is there.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { annotationMap, formatAnnotationJsonl, parseAnnotationJsonl, parseAnnotationName } from '../../src-main/data/annotations';

// Line 1 of the original file, verbatim: the writer must reproduce this layout.
const ORIGINAL_LINE =
  '{"Component": "resid", "Layer": "5", "Feature": "3036", "Name": "resid_5/3036", "Annotation": "promotes singular verb forms", "Notes": "Active on \\"that\\" and \\"and\\""}';

const parse = (lines: string[]) => parseAnnotationJsonl(lines.join('\n') + '\n', 'ann.jsonl');

describe('parseAnnotationJsonl', () => {
  it('reads a full line', () => {
    const r = parse([ORIGINAL_LINE]);
    expect(r.rows).toEqual([{ name: 'resid_5/3036', submodule: 'resid_5', feature: 3036, annotation: 'promotes singular verb forms', notes: 'Active on "that" and "and"', line: 1 }]);
    expect(r.skipped).toEqual([]);
  });

  it('skips the stray CSV header line, naming it', () => {
    const r = parse([ORIGINAL_LINE, '{"Component": "Component", "Layer": "", "Feature": "", "Name": "Name", "Annotation": "Annotation", "Notes": "Notes"}']);
    expect(r.rows).toHaveLength(1);
    expect(r.skipped).toEqual([{ line: 2, reason: expect.stringMatching(/CSV header/) }]);
  });

  it('keeps one row for a duplicate name with the same label; a later different label wins', () => {
    const dup = '{"Component": "attn", "Layer": "5", "Feature": "25516", "Name": "attn_5/25516", "Annotation": "predicts unmarked verb forms", "Notes": ""}';
    const r = parse([dup, ORIGINAL_LINE, dup]);
    expect(r.rows.map((x) => [x.name, x.line])).toEqual([['attn_5/25516', 1], ['resid_5/3036', 2]]);
    expect(r.skipped).toEqual([{ line: 3, reason: 'duplicate of line 1 (same Name and Annotation)' }]);
    const changed = parse([dup, dup.replace('predicts unmarked verb forms', 'plural verbs')]);
    expect(changed.rows).toEqual([expect.objectContaining({ name: 'attn_5/25516', annotation: 'plural verbs', line: 2 })]);
    expect(changed.skipped).toEqual([{ line: 1, reason: expect.stringMatching(/replaced by line 2/) }]);
  });

  it('accepts Layer as an integer (line 29 of the original)', () => {
    const r = parse(['{"Component": "mlp", "Layer": 3, "Feature": "6782", "Name": "mlp_3/6782", "Annotation": "relative pronouns", "Notes": ""}']);
    expect(r.rows[0]).toMatchObject({ submodule: 'mlp_3', feature: 6782, notes: null });
    expect(r.warnings).toEqual([]);
  });

  it('reads lines with only Name and Annotation (the Bias-in-Bios lines)', () => {
    const r = parse(['{"Name": "embed/946", "Annotation": "\'his\'"}', '{"Name": "resid_4/30220", "Annotation": "promotes male pronouns"}']);
    expect(r.rows).toEqual([
      { name: 'embed/946', submodule: 'embed', feature: 946, annotation: "'his'", notes: null, line: 1 },
      { name: 'resid_4/30220', submodule: 'resid_4', feature: 30220, annotation: 'promotes male pronouns', notes: null, line: 2 },
    ]);
  });

  it('reads a lower-case notes key, and skips lines without an Annotation (the Gemma file)', () => {
    const r = parse(['{"Name": "resid_7/100", "Annotation": "dates", "notes": "fires on years"}', '{"Name": "resid_7/101", "notes": "unclear"}', '{"Name": "resid_7/102", "Annotation": "  "}']);
    expect(r.rows).toEqual([expect.objectContaining({ name: 'resid_7/100', notes: 'fires on years' })]);
    expect(r.skipped).toEqual([
      { line: 2, reason: 'no Annotation for resid_7/101' },
      { line: 3, reason: 'empty Annotation for resid_7/102' },
    ]);
  });

  it('skips names that are no node, tolerates blank lines, CRLF and a BOM, and strips positions', () => {
    const text = '\ufeff{"Name": "hello", "Annotation": "x"}\r\n\r\n{"Name": "3, attn_2/13570", "Annotation": "y"}\r\n{"Name": "mlp_0/ε", "Annotation": "error term"}';
    const r = parseAnnotationJsonl(text, 'g.jsonl');
    expect(r.rows.map((x) => [x.name, x.feature, x.line])).toEqual([
      ['attn_2/13570', 13570, 3],
      ['mlp_0/error', 'error', 4],
    ]);
    expect(r.skipped).toEqual([{ line: 1, reason: expect.stringMatching(/'hello' is not a node name/) }]);
  });

  it('warns (and trusts Name) when Component/Layer/Feature disagree with it', () => {
    const r = parse(['{"Component": "mlp", "Layer": "2", "Feature": "7", "Name": "mlp_3/8", "Annotation": "x"}']);
    expect(r.rows[0]).toMatchObject({ submodule: 'mlp_3', feature: 8 });
    expect(r.warnings.map((w) => w.line)).toEqual([1, 1]);
  });

  it('names the file and line of a broken JSON line', () => {
    expect(() => parseAnnotationJsonl(`${ORIGINAL_LINE}\n{"Name": "embed/1", "Annotation": "x"\n`, 'a/ann.jsonl')).toThrow(/^a\/ann\.jsonl:2: not a JSON line/);
    expect(() => parseAnnotationJsonl('\n\n[1, 2]\n', 'b.jsonl')).toThrow(/^b\.jsonl:3: expected a JSON object/);
  });
});

describe('formatAnnotationJsonl', () => {
  it("writes the original's field names, order and layout", () => {
    const out = formatAnnotationJsonl([{ submodule: 'resid_5', feature: 3036, annotation: 'promotes singular verb forms', notes: 'Active on "that" and "and"' }]);
    expect(out).toBe(ORIGINAL_LINE + '\n');
    expect(formatAnnotationJsonl([{ submodule: 'embed', feature: 11649, annotation: '"parent"', notes: null }])).toBe(
      '{"Component": "embed", "Layer": "", "Feature": "11649", "Name": "embed/11649", "Annotation": "\\"parent\\"", "Notes": ""}\n',
    );
  });

  it('round-trips through the parser', () => {
    const rows = [
      { submodule: 'attn_0', feature: 5, annotation: 'ünïcode → ok', notes: 'n' },
      { submodule: 'mlp_1', feature: 'error' as const, annotation: 'the error term', notes: null },
    ];
    const back = parseAnnotationJsonl(formatAnnotationJsonl(rows), 'x.jsonl');
    expect(back.skipped).toEqual([]);
    expect(back.warnings).toEqual([]);
    expect(back.rows.map(({ submodule, feature, annotation, notes }) => ({ submodule, feature, annotation, notes }))).toEqual(rows);
  });
});

describe('parseAnnotationName', () => {
  it('knows node names and nothing else', () => {
    expect(parseAnnotationName('resid_2/31098')).toEqual({ submodule: 'resid_2', feature: 31098 });
    expect(parseAnnotationName('resid_2/31098@4')).toEqual({ submodule: 'resid_2', feature: 31098 });
    expect(parseAnnotationName('resid_2/error')).toEqual({ submodule: 'resid_2', feature: 'error' });
    expect(parseAnnotationName('Name')).toBeNull();
    expect(parseAnnotationName('resid_2/')).toBeNull();
    expect(parseAnnotationName('resid_2/-1')).toBeNull();
  });
});

// The original file, when the shared data folder is next to the repository (not shipped with it).
const ORIGINAL = '../shared/data/feature-circuits/pythia-70m-deduped.jsonl';
describe.skipIf(!existsSync(ORIGINAL))('the original pythia-70m-deduped.jsonl', () => {
  it('gives 276 labelled features; skips the header (line 112) and the duplicate (line 158)', () => {
    const r = parseAnnotationJsonl(readFileSync(ORIGINAL, 'utf8'), ORIGINAL);
    expect(r.rows).toHaveLength(276);
    expect(r.skipped.map((s) => s.line)).toEqual([112, 158]);
    expect(r.warnings).toEqual([]);
    expect(annotationMap(r.rows).get('mlp_3/6782')).toBe('relative pronouns');
    expect(r.rows.filter((x) => x.line >= 212)).toHaveLength(67);
  });
});
