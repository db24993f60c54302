/**
 * dictionary_learning `AutoEncoder` checkpoints (`ae.pt`, docs/sae-formats.md):
 *
 *   bias [D] = b_dec    encoder.weight [F, D]    encoder.bias [F]    decoder.weight [D, F]
 *
 * Canonical form: enc = encoder.weight as is (rows are encoder directions), dec = decoder.weight
 * transposed (rows are the feature directions v_i), applyBDecToInput true, kind 'relu'. Like
 * `AutoEncoder.from_pretrained(normalize_decoder=True)`, non-unit decoder norms are folded into
 * the encoder (see normalizeDecoder).
 */
import { readTorchStateDict, type ByteSource, type TorchTensor } from './torch-zip';
import { checkFiniteRows, checkFiniteWeights, normalizeDecoder, sameShape, type SaeLoadResult } from './sae-util';
import { transposeWithRowNorms } from '../engine/transpose';
import type { Sae } from './types';

export interface AeLoadOptions {
  /** Fold non-unit decoder norms into the encoder (default true, as dictionary_learning does). */
  normalizeDecoder?: boolean;
  /** Tolerance on |‖v_i‖ − 1| (default DECODER_NORM_TOLERANCE = 1e-5). */
  normTolerance?: number;
  /** Map the encoder from the file instead of reading it (default true; see TorchLoadOptions.map). */
  map?: boolean;
}

const KEYS = ['bias', 'encoder.weight', 'encoder.bias', 'decoder.weight'] as const;

/** Canonical SAE from an AutoEncoder state_dict; `source` names the file in errors. */
export function saeFromAutoEncoderState(state: Map<string, TorchTensor>, source: string, opts: AeLoadOptions = {}): SaeLoadResult {
  const present = [...state.keys()];
  for (const k of KEYS) {
    if (!state.has(k)) throw new Error(`${source}: missing key '${k}' (a dictionary_learning AutoEncoder has ${KEYS.join(', ')}; found ${present.join(', ') || 'nothing'})`);
  }
  const extra = present.filter((k) => !(KEYS as readonly string[]).includes(k));
  // load_state_dict is strict in dictionary_learning, so extra keys mean another SAE class
  // (gated, top-k, ...) whose forward pass we would get wrong.
  if (extra.length) throw new Error(`${source}: unexpected key(s) ${extra.join(', ')}: not a standard dictionary_learning AutoEncoder`);
  const w = state.get('encoder.weight')!;
  if (w.shape.length !== 2) throw new Error(`${source}: 'encoder.weight' has shape [${w.shape}], expected [F, D]`);
  const [f, d] = w.shape as [number, number];
  const expect: Record<string, number[]> = { bias: [d], 'encoder.bias': [f], 'decoder.weight': [d, f] };
  // decoder.weight may arrive already transposed (read with `transposed`, carrying rowNorms).
  const decW = state.get('decoder.weight')!;
  const decTransposed = decW.rowNorms !== undefined;
  for (const [k, shape] of Object.entries(expect)) {
    const t = state.get(k)!;
    const stored = k === 'decoder.weight' && decTransposed ? [...t.shape].reverse() : t.shape;
    if (!sameShape(stored, shape)) throw new Error(`${source}: '${k}' has shape [${stored}], expected [${shape}] (from encoder.weight [${f}, ${d}])`);
  }
  const dec = decTransposed ? { out: decW.data, norms: decW.rowNorms! } : transposeWithRowNorms(decW.data, d, f);
  // NaN / ±Inf weights are refused by name. The decoder's row norms are already summed on load
  // and are finite exactly when its entries are, so only the encoder costs a full pass.
  checkFiniteWeights(source, [
    ['bias', state.get('bias')!.data, [d]],
    ['encoder.weight', w.data, [f, d]],
    ['encoder.bias', state.get('encoder.bias')!.data, [f]],
  ]);
  checkFiniteRows(source, 'decoder.weight', dec.norms, dec.out, d, true);
  const sae: Sae = {
    kind: 'relu',
    d,
    f,
    enc: w.data,
    bEnc: state.get('encoder.bias')!.data,
    dec: dec.out,
    bDec: state.get('bias')!.data,
    applyBDecToInput: true,
    source,
  };
  const notes: string[] = [];
  if (opts.normalizeDecoder ?? true) {
    const note = normalizeDecoder(sae, opts.normTolerance, dec.norms);
    if (note) notes.push(note);
  }
  return { sae, notes };
}

/** Loads one `ae.pt` (a path, or a byte source for tests). */
export function loadAutoEncoder(path: string | ByteSource, opts: AeLoadOptions = {}): SaeLoadResult {
  const source = typeof path === 'string' ? path : path.name;
  return saeFromAutoEncoderState(readTorchStateDict(path, { transposed: ['decoder.weight'], map: opts.map }), source, opts);
}
