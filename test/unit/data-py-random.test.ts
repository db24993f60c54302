/** PyRandom against values computed with CPython 3.11's random.Random (hard-coded). */
import { describe, expect, it } from 'vitest';
import { PyRandom } from '../../src-main/data/py-random';

describe('PyRandom matches CPython random.Random', () => {
  it('getrandbits(32) after int seeding', () => {
    const r = new PyRandom(12);
    expect(Array.from({ length: 5 }, () => r.getrandbits(32))).toEqual([2038265566, 1155324522, 2823822892, 2272599372, 2862211193]);
    const z = new PyRandom(0);
    expect([z.getrandbits(32), z.getrandbits(32), z.getrandbits(32)]).toEqual([3626764237, 1654615998, 3255389356]);
  });

  it('multi-word seeds, negative seeds (abs) and bigint seeds', () => {
    const a = new PyRandom(2 ** 40 + 5);
    expect([a.getrandbits(32), a.getrandbits(32), a.getrandbits(32)]).toEqual([2166296868, 2220160828, 1153647273]);
    const b = new PyRandom(-7);
    expect([b.getrandbits(32), b.getrandbits(32)]).toEqual([1390851128, 4071050724]);
    const c = new PyRandom(2n ** 64n + 3n);
    expect([c.getrandbits(32), c.getrandbits(32)]).toEqual([3921169615, 2134766284]);
  });

  it('crosses the 624-word twist boundary', () => {
    const r = new PyRandom(12);
    const v = Array.from({ length: 1250 }, () => r.getrandbits(32));
    expect([v[623], v[624], v[1249]]).toEqual([3116969649, 4125393030, 2355299835]);
  });

  it('getrandbits(k) for k < 32 and random()', () => {
    const r = new PyRandom(12);
    expect([1, 5, 17, 31].map((k) => r.getrandbits(k))).toEqual([0, 8, 86176, 1136299686]);
    const f = new PyRandom(12);
    expect([f.random(), f.random(), f.random()]).toEqual([0.4745706786885481, 0.6574725026572553, 0.6664104711248381]);
  });

  it('_randbelow', () => {
    const r = new PyRandom(42);
    expect([1, 2, 3, 7, 10, 100, 1000, 2 ** 32 - 1, 2 ** 31].map((n) => r.randbelow(n))).toEqual([0, 0, 2, 2, 3, 28, 142, 3163119785, 440213415]);
    expect(() => r.randbelow(2 ** 32)).toThrow(RangeError);
    expect(() => r.getrandbits(33)).toThrow(RangeError);
  });

  it('shuffle', () => {
    const range = (n: number) => Array.from({ length: n }, (_, i) => i);
    expect(new PyRandom(12).shuffle(range(20))).toEqual([2, 9, 14, 18, 1, 10, 12, 13, 3, 17, 19, 7, 5, 0, 6, 4, 11, 16, 8, 15]);
    const big = new PyRandom(12).shuffle(range(1000));
    expect(big.slice(0, 10)).toEqual([242, 78, 748, 432, 49, 254, 152, 894, 468, 863]);
    expect(big.slice(-5)).toEqual([682, 541, 673, 275, 485]);
    expect(big.reduce((s, v, i) => s + i * v, 0)).toBe(247746605);
    expect(new PyRandom(12).shuffle(range(2400)).slice(0, 10)).toEqual([1190, 782, 617, 1113, 681, 1824, 1572, 1779, 447, 99]);
    expect(new PyRandom(3).shuffle([1, 2, 3, 4, 5, 6, 7, 8])).toEqual([1, 6, 8, 3, 2, 7, 5, 4]);
  });
});
