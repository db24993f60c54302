/**
 * The demo model's training text: a small seeded grammar of English sentences with
 * subject–verb agreement everywhere, in the four structures of docs/data-formats.md §5 and around them:
 *
 *   simple     The author is tall.
 *   nounpp     The author near the guards is tall.            (PP distractor of either number)
 *   rc         The author that the guards like is tall.       (object relative, transitive verb)
 *   within_rc  The author that the guards are watching is tall. (the RC's verb agrees with its subject)
 *
 * plus subject relatives, adjectives, "There is/are", "A"/"Many" subjects, object nouns as
 * subjects and compound sentences, so the text is not only the test templates. Verbs after a
 * subject come as is/are, was/were, has/have, does/do, goes/go and lexical verbs (runs/run, ...).
 *
 * The noun, preposition and verb lists include every word of the agreement data generator
 * (src-main/data/generator.ts), so its JSONL files tokenize with the demo tokenizer.
 *
 * Held-out data: `exclude` is a set of prefixes (the test files' clean and patch prefixes); a
 * sentence in which such a prefix is directly followed by an agreeing verb (is, are, ...) is
 * never produced, so the test sentences are genuinely unseen.
 */
import { WORDS as GEN } from '../data/generator';
import { Rng } from './rng';
import { wordsToText } from './tokenizer';

/** [singular, plural] nouns, or [agrees with singular, agrees with plural] verbs. */
export type Pair = readonly [string, string];
type Num = 0 | 1;

function uniquePairs(ps: readonly Pair[]): Pair[] {
  const seen = new Set<string>();
  return ps.filter((p) => {
    const k = p.join('/');
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export const PEOPLE: readonly Pair[] = uniquePairs([
  ...GEN.subjects,
  ...GEN.distractors,
  ['teacher', 'teachers'], ['doctor', 'doctors'], ['farmer', 'farmers'], ['singer', 'singers'],
  ['dancer', 'dancers'], ['friend', 'friends'], ['boy', 'boys'], ['girl', 'girls'],
]);
export const OBJECTS: readonly Pair[] = [
  ['bike', 'bikes'], ['car', 'cars'], ['cat', 'cats'], ['chair', 'chairs'], ['desk', 'desks'], ['dog', 'dogs'],
  ['table', 'tables'], ['tree', 'trees'], ['truck', 'trucks'], ['window', 'windows'], ['book', 'books'], ['house', 'houses'],
];
export const PLACES = ['school', 'park', 'city', 'office', 'market', 'river'];
export const ADJECTIVES = ['happy', 'tall', 'old', 'young', 'tired', 'busy', 'angry', 'late', 'ready', 'quiet', 'kind', 'brave', 'small', 'red', 'new', 'good'];
export const ING = ['watching', 'helping', 'following', 'calling', 'visiting', 'chasing'];
export const PARTICIPLES = ['seen', 'met', 'helped', 'called', 'known', 'visited', 'followed'];
export const PREPOSITIONS = [...new Set([...GEN.prepositions, 'with', 'from'])];
export const ADVERBS = ['today', 'again', 'often', 'always', 'quickly', 'now', 'too'];

/** The verbs the agreement data asks about (answer forms), plus goes/go. */
export const AUX: readonly Pair[] = uniquePairs([...GEN.answerVerbs, ['is', 'are'], ['was', 'were'], ['has', 'have'], ['does', 'do'], ['goes', 'go']]);
export const INTRANSITIVE: readonly Pair[] = [
  ['runs', 'run'], ['sleeps', 'sleep'], ['walks', 'walk'], ['waits', 'wait'], ['smiles', 'smile'], ['works', 'work'], ['sings', 'sing'], ['laughs', 'laugh'],
];
export const TRANSITIVE: readonly Pair[] = uniquePairs([
  ...GEN.rcVerbs,
  ['meets', 'meet'], ['calls', 'call'], ['finds', 'find'], ['watches', 'watch'], ['visits', 'visit'], ['follows', 'follow'],
]);
const FUNCTION_WORDS = ['The', 'the', 'A', 'a', 'Many', 'many', 'There', 'there', 'that', 'not', 'very', 'and', 'but', 'to', 'been', 'home', 'here', 'in', '.'];

/** The answer forms: a prefix followed by one of these is what the agreement data tests. */
export const AGREEING_VERBS = new Set(AUX.flat());

/** Every word the grammar can produce, in a fixed order (the tokenizer's vocabulary). */
export function corpusWords(): string[] {
  const words: string[] = [];
  const seen = new Set<string>();
  const add = (w: string) => {
    if (!seen.has(w)) {
      seen.add(w);
      words.push(w);
    }
  };
  FUNCTION_WORDS.forEach(add);
  for (const list of [PEOPLE, OBJECTS, AUX, INTRANSITIVE, TRANSITIVE]) for (const p of list) p.forEach(add);
  for (const list of [PLACES, ADJECTIVES, ING, PARTICIPLES, PREPOSITIONS, ADVERBS]) list.forEach(add);
  return words;
}

/** Which construction a sentence was built from (its subject noun phrase). */
export type SentenceKind = 'simple' | 'adjective' | 'nounpp' | 'rc' | 'within_rc' | 'subject_rc' | 'filler';

export interface Sentence {
  words: string[];
  kind: SentenceKind;
}

/** Relative frequencies of the constructions. */
export const DEFAULT_MIX: Record<SentenceKind, number> = {
  simple: 14,
  adjective: 5,
  nounpp: 22,
  rc: 18,
  within_rc: 18,
  subject_rc: 7,
  filler: 16,
};

class Grammar {
  constructor(private readonly r: Rng) {}

  num(): Num {
    return this.r.int(2) as Num;
  }

  /** "the" + a person or object noun of random number. */
  objectNp(): string[] {
    const n = this.num();
    return ['the', this.r.pick(this.r.chance(0.5) ? PEOPLE : OBJECTS)[n]];
  }

  /** A verb phrase whose first word agrees with number n. */
  vp(n: Num): string[] {
    const r = this.r;
    switch (r.weighted([26, 14, 12, 8, 6, 10, 10])) {
      case 0:
      case 1: {
        const be = r.pick(r.chance(0.5) ? [AUX[0]] : [AUX[1]])[n]; // is/are or was/were
        const rest = r.pick<() => string[]>([
          () => [r.pick(ADJECTIVES)],
          () => ['very', r.pick(ADJECTIVES)],
          () => ['not', r.pick(ADJECTIVES)],
          () => [r.pick(['here', 'there', 'home'])],
          () => [r.pick(PREPOSITIONS), ...this.objectNp()],
          () => [r.pick(ING), ...this.objectNp()],
          () => ['in', 'the', r.pick(PLACES)],
        ])();
        return [be, ...rest];
      }
      case 2:
        return [
          AUX[2][n], // has/have
          ...r.pick<() => string[]>([
            () => [r.pick(PARTICIPLES), ...this.objectNp()],
            () => ['a', r.pick(OBJECTS)[0]],
            () => ['many', r.pick(OBJECTS)[1]],
            () => ['been', r.pick(ADJECTIVES)],
            () => ['been', 'in', 'the', r.pick(PLACES)],
          ])(),
        ];
      case 3:
        return [AUX[3][n], 'not', ...(r.chance(0.5) ? [r.pick(INTRANSITIVE)[1]] : [r.pick(TRANSITIVE)[1], ...this.objectNp()])]; // does/do not
      case 4:
        return [AUX[4][n], ...r.pick([['home'], ['there'], ['to', 'the', r.pick(PLACES)], ['again']])]; // goes/go
      case 5:
        return [r.pick(INTRANSITIVE)[n], ...(r.chance(0.5) ? [r.pick(ADVERBS)] : [])];
      default:
        return [r.pick(TRANSITIVE)[n], ...this.objectNp()];
    }
  }

  /** The verb group inside an object relative clause, agreeing with its subject (number n). */
  rcVerbGroup(n: Num, aux: boolean): string[] {
    const r = this.r;
    if (!aux) return [r.pick(TRANSITIVE)[n]];
    switch (r.int(4)) {
      case 0:
        return [AUX[0][n], r.pick(ING)];
      case 1:
        return [AUX[1][n], r.pick(ING)];
      case 2:
        return [AUX[2][n], r.pick(PARTICIPLES)];
      default:
        return [AUX[3][n], 'not', r.pick(TRANSITIVE)[1]];
    }
  }

  /** Subject noun phrase of a construction, and the number the main verb must agree with. */
  subject(kind: Exclude<SentenceKind, 'filler'>): { words: string[]; n: Num } {
    const r = this.r;
    const n = this.num();
    const head = r.pick(PEOPLE)[n];
    const n2 = this.num();
    const other = () => r.pick(r.chance(0.7) ? PEOPLE : OBJECTS)[n2];
    switch (kind) {
      case 'simple':
        return { words: ['The', head], n };
      case 'adjective':
        return { words: ['The', r.pick(ADJECTIVES), head], n };
      case 'nounpp':
        return { words: ['The', head, r.pick(PREPOSITIONS), 'the', other()], n };
      case 'rc':
        return { words: ['The', head, 'that', 'the', r.pick(PEOPLE)[n2], ...this.rcVerbGroup(n2, false)], n };
      case 'within_rc':
        return { words: ['The', head, 'that', 'the', r.pick(PEOPLE)[n2], ...this.rcVerbGroup(n2, true)], n };
      case 'subject_rc':
        return { words: ['The', head, 'that', r.pick(TRANSITIVE)[n], ...this.objectNp()], n };
    }
  }

  filler(): string[] {
    const r = this.r;
    const n = this.num();
    switch (r.int(5)) {
      case 0:
        return ['A', r.pick(r.chance(0.5) ? PEOPLE : OBJECTS)[0], ...this.vp(0)];
      case 1:
        return ['Many', r.pick(r.chance(0.5) ? PEOPLE : OBJECTS)[1], ...this.vp(1)];
      case 2: {
        const be = r.pick([AUX[0], AUX[1]])[n];
        const np = n === 0 ? ['a', r.pick(OBJECTS)[0]] : ['many', r.pick(OBJECTS)[1]];
        return ['There', be, ...np, ...(r.chance(0.5) ? [r.pick(PREPOSITIONS), 'the', r.pick(PLACES)] : [])];
      }
      case 3:
        return ['The', r.pick(OBJECTS)[n], ...this.vp(n)];
      default: {
        const m = this.num();
        return ['The', r.pick(OBJECTS)[n], ...this.vp(n), r.pick(['and', 'but']), 'the', r.pick(PEOPLE)[m], ...this.vp(m)];
      }
    }
  }

  sentence(kind: SentenceKind): string[] {
    if (kind === 'filler') return [...this.filler(), '.'];
    const s = this.subject(kind);
    return [...s.words, ...this.vp(s.n), '.'];
  }
}

/** Does the sentence put an excluded prefix directly before an agreeing verb? */
export function hitsExcluded(words: readonly string[], exclude: ReadonlySet<string>): boolean {
  if (exclude.size === 0) return false;
  for (let k = 1; k < words.length; k++) {
    if (AGREEING_VERBS.has(words[k]!) && exclude.has(words.slice(0, k).join(' '))) return true;
  }
  return false;
}

export interface CorpusOptions {
  seed: number;
  mix?: Record<SentenceKind, number>;
  /** Prefixes that must never be followed by an agreeing verb (held-out test prefixes). */
  exclude?: ReadonlySet<string>;
}

/**
 * An endless, seeded stream of sentences. `next()` returns word lists; the same seed and
 * options give the same stream.
 */
export class Corpus {
  private readonly rng: Rng;
  private readonly grammar: Grammar;
  private readonly kinds: SentenceKind[];
  private readonly weights: number[];
  private readonly exclude: ReadonlySet<string>;
  /** Sentences rejected because they contained a held-out prefix. */
  rejected = 0;

  constructor(opts: CorpusOptions) {
    this.rng = new Rng(opts.seed);
    this.grammar = new Grammar(this.rng);
    const mix = opts.mix ?? DEFAULT_MIX;
    this.kinds = Object.keys(mix) as SentenceKind[];
    this.weights = this.kinds.map((k) => mix[k]);
    this.exclude = opts.exclude ?? new Set();
  }

  next(): Sentence {
    for (;;) {
      const kind = this.kinds[this.rng.weighted(this.weights)]!;
      const words = this.grammar.sentence(kind);
      if (!hitsExcluded(words, this.exclude)) return { words, kind };
      this.rejected++;
    }
  }

  take(n: number): Sentence[] {
    return Array.from({ length: n }, () => this.next());
  }
}

/** A few sentences as text, for READMEs and eyeballing. */
export function sampleText(seed: number, n: number): string[] {
  const c = new Corpus({ seed });
  return c.take(n).map((s) => wordsToText(s.words));
}
