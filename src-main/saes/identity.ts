import type { Sae, SaeSet, Submodule } from './types';

/**
 * The neuron baseline (docs/sae-formats.md; the original's `IdentityDict`): f = x, x̂ = f,
 * F = D, error ≡ 0.
 * enc/dec stay empty: code that meets kind 'identity' must not multiply by them.
 */
export function identitySae(d: number, source = 'identity'): Sae {
  if (!Number.isInteger(d) || d <= 0) throw new Error(`identity SAE: width must be a positive integer, got ${d}`);
  return {
    kind: 'identity',
    d,
    f: d,
    enc: new Float32Array(0),
    bEnc: new Float32Array(d),
    dec: new Float32Array(0),
    bDec: new Float32Array(d),
    applyBDecToInput: false,
    source,
  };
}

export function identitySaeSet(submodules: readonly Submodule[], d: number): SaeSet {
  return new Map(submodules.map((s) => [s, identitySae(d, `identity (${s})`)]));
}
