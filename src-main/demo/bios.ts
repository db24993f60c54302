/**
 * The SHIFT demo's text (docs/shift.md, The demo task): short synthetic biographies of
 * professors and nurses, each of a man or a woman. Like Bias in Bios' `hard_text`, a biography
 * never states the profession title in its first sentence; the profession shows only in one or
 * two sentences about the work (and in 1 of 10 biographies not at all), while the gender shows
 * in nearly every sentence (names and pronouns). So gender is the louder signal, as in the real
 * data, and a probe trained where the two coincide leans on it.
 *
 * Every word is one token of the demo tokenizer (demo/tokenizer.ts), and the 20 keywords of
 * concept bottleneck probing are among the work words.
 */
import { Rng } from './rng';

export type Gender = 0 | 1; // 0 male, 1 female
export type Profession = 0 | 1; // 0 professor, 1 nurse

export interface Bio {
  words: string[];
  profession: Profession;
  gender: Gender;
}

const NAMES: Record<Gender, string[]> = {
  0: ['John', 'David', 'Michael', 'Robert', 'James', 'Thomas', 'Daniel', 'Paul', 'Mark', 'Peter', 'Richard', 'Steven'],
  1: ['Mary', 'Sarah', 'Linda', 'Susan', 'Emily', 'Anna', 'Laura', 'Karen', 'Lisa', 'Julia', 'Rachel', 'Helen'],
};
const SURNAMES = ['Smith', 'Brown', 'Miller', 'Wilson', 'Moore', 'Taylor', 'Clark', 'Hall', 'Allen', 'Young', 'King', 'Wright'];
const CITIES = ['Boston', 'Chicago', 'Denver', 'Austin', 'Seattle', 'Portland', 'Atlanta', 'Phoenix'];
const HOBBIES = ['hiking', 'reading', 'cooking', 'gardening', 'painting', 'running', 'music', 'chess', 'baking', 'cycling', 'swimming', 'photography'];
const ADJECTIVES = ['kind', 'honest', 'funny', 'calm', 'curious', 'generous', 'careful', 'friendly'];
const PETS = ['dog', 'cat', 'parrot', 'rabbit'];
const NUMBERS = ['two', 'three', 'five', 'ten', 'twenty'];
const FIELDS = ['physics', 'history', 'chemistry', 'economics', 'biology', 'philosophy', 'mathematics', 'linguistics'];
const UNITS = ['pediatric', 'cardiac', 'maternity', 'oncology', 'surgical', 'geriatric'];

/** Pronouns by gender: subject (capitalised / not), possessive (capitalised / not), object. */
const PRONOUNS: Record<Gender, { P: string; p: string; Pos: string; pos: string; obj: string }> = {
  0: { P: 'He', p: 'he', Pos: 'His', pos: 'his', obj: 'him' },
  1: { P: 'She', p: 'she', Pos: 'Her', pos: 'her', obj: 'her' },
};

/** The words that carry gender (names and pronouns): what a person judging a feature recognises. */
export const GENDER_WORDS: ReadonlySet<string> = new Set([...NAMES[0], ...NAMES[1], ...Object.values(PRONOUNS[0]), ...Object.values(PRONOUNS[1])]);

/** The gender a name or pronoun signals (null for every other word). */
export function genderOfWord(word: string): Gender | null {
  for (const g of [0, 1] as const) if (NAMES[g].includes(word) || Object.values(PRONOUNS[g]).includes(word)) return g;
  return null;
}

/**
 * Punctuation and the closed-class words of the biographies (articles, prepositions,
 * conjunctions, auxiliaries): words that by themselves say nothing about the work or the
 * person. Determiners that occur only inside one profession's sentences ('many papers', 'every
 * patient') are left out: a feature peaking on them is never judged spurious by its contexts'
 * gender alone.
 */
export const FUNCTION_WORDS: ReadonlySet<string> = new Set(['.', ',', 'a', 'the', 'in', 'In', 'on', 'at', 'to', 'for', 'from', 'with', 'about', 'as', 'and', 'that', 'this', 'is', 'has', 'up', 'during', 'before']);

type Ctx = { pr: (typeof PRONOUNS)[Gender]; rng: Rng; name: string };
type Template = (c: Ctx) => string[];
const s = (text: string): string[] => text.split(' ');

const INTROS: Template[] = [
  (c) => [c.name, c.rng.pick(SURNAMES), ...s('lives in'), c.rng.pick(CITIES), '.'],
  (c) => [c.name, ...s('grew up in'), c.rng.pick(CITIES), '.'],
  (c) => [c.name, c.rng.pick(SURNAMES), ...s('is from'), c.rng.pick(CITIES), '.'],
];

/** Sentences about the work, by profession; every one has at least one work word. */
const WORK: Record<Profession, Template[]> = {
  0: [
    (c) => [c.pr.P, 'teaches', c.rng.pick(FIELDS), ...s('courses at the university .')],
    (c) => [c.pr.Pos, ...s('research focuses on'), c.rng.pick(FIELDS), '.'],
    (c) => [c.pr.P, ...s('has written many papers on'), c.rng.pick(FIELDS), '.'],
    (c) => [c.pr.P, ...s('received a grant for'), c.pr.pos, ...s('research .')],
    (c) => [c.pr.P, ...s('completed'), c.pr.pos, ...s('dissertation on'), c.rng.pick(FIELDS), '.'],
    (c) => [c.pr.P, ...s('joined the faculty in'), c.rng.pick(CITIES), '.'],
    (c) => [c.pr.P, ...s('is on sabbatical this year .')],
    (c) => [c.pr.P, ...s('earned tenure at the university .')],
    (c) => [c.pr.P, ...s('advises students in the'), c.rng.pick(FIELDS), ...s('department .')],
    (c) => [c.pr.Pos, ...s('latest publication is about'), c.rng.pick(FIELDS), '.'],
    (c) => [c.pr.P, ...s('loves life in academia .')],
  ],
  1: [
    (c) => [c.pr.P, ...s('works in the'), c.rng.pick(UNITS), ...s('ward at the hospital .')],
    (c) => [c.pr.P, ...s('cares for patients in the emergency room .')],
    (c) => [c.pr.P, ...s('gives medication to patients at the clinic .')],
    (c) => [c.pr.P, ...s('has worked in healthcare for'), c.rng.pick(NUMBERS), 'years', '.'],
    (c) => [c.pr.P, ...s('assists doctors during surgery .')],
    (c) => [c.pr.P, ...s('handles triage at a busy clinic .')],
    (c) => [c.pr.P, ...s('studied nursing in'), c.rng.pick(CITIES), '.'],
    (c) => [c.pr.P, ...s('works long shifts at the medical center .')],
    (c) => [c.pr.P, ...s('is a nurse at the'), c.rng.pick(UNITS), ...s('unit .')],
    (c) => [c.pr.P, ...s('checks on every patient before dawn .')],
  ],
};

/** Sentences about the person, the same for both professions. */
const PERSONAL: Template[] = [
  (c) => [c.pr.P, ...s('lives with'), c.pr.pos, ...s('family in'), c.rng.pick(CITIES), '.'],
  (c) => [c.pr.P, 'enjoys', c.rng.pick(HOBBIES), 'and', c.rng.pick(HOBBIES), '.'],
  (c) => [...s('In'), c.pr.pos, ...s('free time ,'), c.pr.p, 'likes', c.rng.pick(HOBBIES), '.'],
  (c) => [c.pr.Pos, ...s('friends describe'), c.pr.obj, 'as', c.rng.pick(ADJECTIVES), '.'],
  (c) => [c.pr.P, ...s('has two children and a'), c.rng.pick(PETS), '.'],
  (c) => [c.pr.P, ...s('loves to travel with'), c.pr.pos, 'friends', '.'],
  (c) => [c.pr.P, ...s('says that'), c.pr.p, 'is', c.rng.pick(ADJECTIVES), '.'],
  (c) => [c.name, ...s('spends'), c.pr.pos, ...s('weekends'), c.rng.pick(HOBBIES), '.'],
  (c) => [c.pr.Pos, c.rng.pick(PETS), ...s('follows'), c.pr.obj, ...s('everywhere .')],
];

export interface BioOptions {
  /** Probability that a biography has no sentence about the work. */
  noWork: number;
  /** Probability of two work sentences (else one), when it has any. */
  twoWork: number;
  /** Personal sentences: min and max. */
  personal: [number, number];
  /** First names used per gender (the first n of each list). */
  names: number;
}

export const BIO_OPTIONS: BioOptions = { noWork: 0.05, twoWork: 0.9, personal: [1, 2], names: 4 };

/** One biography of the given profession and gender. */
export function makeBio(rng: Rng, profession: Profession, gender: Gender, o: BioOptions = BIO_OPTIONS): Bio {
  const c: Ctx = { pr: PRONOUNS[gender], rng, name: rng.pick(NAMES[gender].slice(0, o.names)) };
  const work = rng.chance(o.noWork) ? 0 : rng.chance(o.twoWork) ? 2 : 1;
  const personal = o.personal[0] + rng.int(o.personal[1] - o.personal[0] + 1);
  const workT = rng.shuffle([...WORK[profession]]).slice(0, work);
  const personalT = rng.shuffle([...PERSONAL]).slice(0, personal);
  const body = rng.shuffle([...workT, ...personalT]);
  const words = [...rng.pick(INTROS)(c), ...body.flatMap((t) => t(c))];
  return { words, profession, gender };
}

/** Every word the biographies use, in a fixed order (for the tokenizer). */
export function bioWords(o: BioOptions = BIO_OPTIONS): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  const add = (w: string) => {
    if (!seen.has(w)) (seen.add(w), out.push(w));
  };
  // Enumerate every template with every choice: run each with a recording Rng stand-in.
  const lists = [NAMES[0].slice(0, o.names), NAMES[1].slice(0, o.names), SURNAMES, CITIES, HOBBIES, ADJECTIVES, PETS, NUMBERS, FIELDS, UNITS, ...Object.values(PRONOUNS[0]).map((w) => [w]), ...Object.values(PRONOUNS[1]).map((w) => [w])];
  for (const l of lists) l.forEach(add);
  const rng = new Rng(0);
  for (const g of [0, 1] as const) {
    const c: Ctx = { pr: PRONOUNS[g], rng, name: NAMES[g][0] };
    for (const t of [...INTROS, ...WORK[0], ...WORK[1], ...PERSONAL]) t(c).forEach(add);
  }
  return out;
}

/** Group sizes of one split of the demo dataset. */
export interface GroupCounts {
  male_professor: number;
  female_professor: number;
  male_nurse: number;
  female_nurse: number;
}

/** A split's biographies: the groups' rows interleaved in a seeded order (like a real file). */
export function bioSplit(rng: Rng, counts: GroupCounts, o: BioOptions = BIO_OPTIONS): Bio[] {
  const out: Bio[] = [];
  const add = (n: number, p: Profession, g: Gender) => {
    for (let i = 0; i < n; i++) out.push(makeBio(rng, p, g, o));
  };
  add(counts.male_professor, 0, 0);
  add(counts.female_professor, 0, 1);
  add(counts.male_nurse, 1, 0);
  add(counts.female_nurse, 1, 1);
  return rng.shuffle(out);
}

/** Biographies for the language model: all four groups equally often. */
export function bioStream(seed: number, o: BioOptions = BIO_OPTIONS): () => Bio {
  const rng = new Rng(seed);
  return () => makeBio(rng, rng.int(2) as Profession, rng.int(2) as Gender, o);
}
