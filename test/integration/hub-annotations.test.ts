/**
 * The original Pythia annotation file onto a Pythia-shaped SAE set: 19 submodules of 32768
 * features (width 1, so the tree is small), whose shapes are read from the ae.pt headers and
 * recorded when the set is registered, as a fetch does. Every label lands on its feature, a
 * feature past 32767 is refused, and the labels reach a plotted circuit. The original file is
 * read from ../shared when it is there and never copied into the repository.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dictionaryLearningFolder, standardSubmodules } from '../../src-main/saes/load';
import { saeShapes } from '../../src-main/hub/inspect';
import { openStore, type Store } from '../../src-main/store';
import { registerSaeSet } from '../../src-main/store/register';
import { importFile } from '../../src-main/store/import';
import { annotationMap, parseAnnotationJsonl } from '../../src-main/data/annotations';
import { circuitToSvg } from '../../src-main/view';
import { randomSae, writeAe } from '../helpers/saes-fixtures';

const ORIGINAL = join(process.cwd(), '..', 'shared', 'data', 'feature-circuits', 'pythia-70m-deduped.jsonl');
const SUBS = standardSubmodules(6);
let dir: string;
let store: Store;
let setId: number;
let sha: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sfc-hub-ann-'));
  SUBS.forEach((sub, i) => writeAe(join(dir, 'saes', dictionaryLearningFolder(sub), '10_32768'), randomSae(300 + i, 1, 32768)));
  store = openStore(join(dir, 'sfc.db'));
  const set = registerSaeSet(store, join(dir, 'saes'), null, 'pythia dictionaries');
  store.library.setSaeShapes(set.id, saeShapes(join(dir, 'saes'), SUBS));
  setId = set.id;
  sha = set.sha256;
});
afterAll(() => {
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('annotations on the Pythia dictionaries', () => {
  it('the shapes come from the headers: 19 submodules of 32768 features', () => {
    const set = store.library.saeSet(setId);
    expect(set.submodules).toHaveLength(19);
    expect(set.submodules!.every((s) => s.features === 32768 && s.kind === 'relu')).toBe(true);
  });

  it('a feature past the dictionary is refused, naming the file, line and range', () => {
    expect(() => importFile(store, { name: 'late.jsonl', text: '{"Name": "resid_2/32768", "Annotation": "one too far"}\n' }, { saeSetId: setId })).toThrow(
      'late.jsonl:1 (resid_2/32768): feature 32768 is out of range for resid_2 (32768 features)',
    );
  });

  it.skipIf(!existsSync(ORIGINAL))('the original annotation file imports onto the matching features', () => {
    const text = readFileSync(ORIGINAL, 'utf8');
    const parsed = parseAnnotationJsonl(text, ORIGINAL);
    const r = importFile(store, { path: ORIGINAL }, { saeSetId: setId });
    expect(r.kind).toBe('annotations');
    if (r.kind !== 'annotations') return;
    const distinct = new Set(parsed.rows.map((x) => x.name)).size;
    expect(r.imported + r.unchanged).toBe(parsed.rows.length);
    expect(store.annotations.all(sha)).toHaveLength(distinct);
    for (const row of parsed.rows.slice(0, 20)) expect(store.annotations.get(sha, row)?.text).toBe(row.annotation.trim());

    // The labels reach a figure: a circuit holding two annotated features, drawn with them.
    const [a, b] = parsed.rows.filter((x) => x.feature !== 'error');
    const circuit = {
      submodules: SUBS.map((name) => ({ name, features: 32768 })),
      positions: null,
      nodes: [a!, b!].map((x, i) => ({ id: `${x.submodule}/${x.feature}`, submodule: x.submodule, feature: x.feature, effect: 1 + i })),
      edges: null,
    };
    const svg = circuitToSvg(circuit as never, { annotations: annotationMap(parsed.rows), nodeThreshold: 0, edgeThreshold: 0 });
    const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    expect(svg).toContain(esc(a!.annotation.trim()).slice(0, 12));
  });
});
