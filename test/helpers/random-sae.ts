/**
 * Random SAEs in the canonical layout for tests: unit-norm decoder rows, encoder rows near the
 * decoder directions, and encoder biases that leave a fraction of features active on typical
 * activations of the given scale.
 */
import type { Sae } from '../../src-main/saes/types';
import { mulberry32, randn } from './random';

export function randomSae(d: number, f: number, seed: number, opts: { scale?: number; kind?: 'relu' | 'jumprelu' } = {}): Sae {
  const rnd = mulberry32(seed);
  const scale = opts.scale ?? 1;
  const dec = new Float32Array(f * d);
  const enc = new Float32Array(f * d);
  for (let i = 0; i < f; i++) {
    let norm = 0;
    for (let q = 0; q < d; q++) {
      const v = randn(rnd);
      dec[i * d + q] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    for (let q = 0; q < d; q++) {
      dec[i * d + q] /= norm;
      enc[i * d + q] = dec[i * d + q] + 0.3 * randn(rnd) / Math.sqrt(d);
    }
  }
  const bEnc = Float32Array.from({ length: f }, () => -0.15 * scale * (0.5 + rnd()));
  const bDec = Float32Array.from({ length: d }, () => 0.05 * scale * randn(rnd));
  const sae: Sae = { kind: opts.kind ?? 'relu', d, f, enc, bEnc, dec, bDec, applyBDecToInput: true, source: `random-sae-${seed}` };
  if (opts.kind === 'jumprelu') sae.threshold = Float32Array.from({ length: f }, () => 0.02 * scale * rnd());
  return sae;
}

/** RMS of a tensor's entries (to scale an SAE to the activations it will see). */
export function rms(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / x.length);
}
