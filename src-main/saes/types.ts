/**
 * One sparse autoencoder in the program's canonical layout. Every loader (dictionary_learning
 * ae.pt, SAELens safetensors, ...) converts to this; the circuit code sees nothing else.
 *
 *   encode: f = act(enc · (x − bDec·[applyBDecToInput]) + bEnc)      enc rows = encoder directions
 *   decode: x̂ = Σ_i f_i · dec[i] + bDec                               dec rows = feature directions v_i
 */
export type SaeKind = 'relu' | 'jumprelu' | 'identity';

/** The 19 Pythia hook points: embed, attn_l, mlp_l, resid_l. */
export type Submodule = string;

export interface Sae {
  kind: SaeKind;
  /** Activation width D. */
  d: number;
  /** Number of features F (identity: F = D). */
  f: number;
  /** [F, D] row-major: row i is the encoder direction of feature i. Empty for identity. */
  enc: Float32Array;
  /** [F] */
  bEnc: Float32Array;
  /** [F, D] row-major: row i is the decoder direction v_i. Empty for identity. */
  dec: Float32Array;
  /** [D] */
  bDec: Float32Array;
  /** [F], JumpReLU only. */
  threshold?: Float32Array;
  applyBDecToInput: boolean;
  /** Where it came from (file path), for messages. */
  source: string;
}

/** SAEs keyed by submodule name ('embed', 'attn_0', 'mlp_0', 'resid_0', ...). */
export type SaeSet = Map<Submodule, Sae>;
