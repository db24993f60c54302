import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAutoEncoder } from '../../src-main/saes/dictionary-learning';
import { decodeRef, encodeDenseRef, encodeRef } from '../../src-main/saes/encode-ref';
import { hookToSubmodule, loadSaelensSae, submoduleToHook } from '../../src-main/saes/saelens';
import { decoderRowNorms } from '../../src-main/saes/sae-util';
import type { Sae } from '../../src-main/saes/types';
import { cleanupTempDirs, aeState, flatCfg, randomArray, randomSae, tempDir, writeAe, writeSaelens } from '../helpers/saes-fixtures';
import { mulberry32 } from '../helpers/random';

afterAll(cleanupTempDirs);

const D = 16;
const F = 40;

function close(a: Float32Array, b: Float32Array, tol: number) {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  expect(worst).toBeLessThan(tol);
}

describe('dictionary_learning ae.pt and SAELens folders', () => {
  it('the ae.pt ↔ SAELens mapping gives identical SAEs and encodings', () => {
    const sae = randomSae(1, D, F);
    const dir = tempDir('map');
    const ae = loadAutoEncoder(writeAe(join(dir, 'ae'), sae));
    const sl = loadSaelensSae(writeSaelens(join(dir, 'sl'), sae, flatCfg(sae, 'blocks.0.hook_resid_post')));
    expect(ae.notes).toEqual([]);
    expect(sl.notes).toEqual([]);
    for (const s of [ae.sae, sl.sae]) {
      expect(s.kind).toBe('relu');
      expect([s.d, s.f, s.applyBDecToInput]).toEqual([D, F, true]);
      expect(s.enc).toEqual(sae.enc);
      expect(s.dec).toEqual(sae.dec);
      expect(s.bEnc).toEqual(sae.bEnc);
      expect(s.bDec).toEqual(sae.bDec);
    }
    const x = randomArray(mulberry32(7), 5 * D, 1.5);
    const fa = encodeRef(ae.sae, x);
    expect(encodeRef(sl.sae, x)).toEqual(fa);
    expect(fa.some((r) => r.indices.length > 0 && r.indices.length < F)).toBe(true); // sparse, not trivial
    expect(sl.cfg.submodule).toBe('resid_0');
  });

  it('rescales a non-unit decoder: x̂ unchanged, f scaled by the norms, and says so', () => {
    const norms = (i: number) => 0.5 + 0.05 * i;
    const raw = randomSae(2, D, F, { decNorms: norms });
    const path = writeAe(join(tempDir('norm'), 'ae'), raw);
    const { sae, notes } = loadAutoEncoder(path);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain(`${path}: decoder rows were not unit norm`);
    for (const n of decoderRowNorms(sae)) expect(n).toBeCloseTo(1, 6);
    const x = randomArray(mulberry32(8), 6 * D, 1.5);
    const fRaw = encodeDenseRef(raw, x);
    const fNew = encodeDenseRef(sae, x);
    for (let r = 0; r < 6; r++) for (let i = 0; i < F; i++) expect(fNew[r * F + i]).toBeCloseTo(fRaw[r * F + i]! * norms(i), 4);
    close(decodeRef(sae, encodeRef(sae, x)), decodeRef(raw, encodeRef(raw, x)), 1e-5);
    // Opting out keeps the file's values.
    const kept = loadAutoEncoder(path, { normalizeDecoder: false });
    expect(kept.notes).toEqual([]);
    expect(kept.sae.dec).toEqual(raw.dec);
  });

  it('leaves zero-norm (dead) decoder rows alone instead of making NaNs', () => {
    const raw = randomSae(3, D, F, { decNorms: (i) => (i === 0 ? 0 : 2) });
    const { sae, notes } = loadAutoEncoder(writeAe(join(tempDir('zero'), 'ae'), raw));
    expect(notes[0]).toContain('1 rows of norm 0 left as they are');
    expect(sae.enc.every(Number.isFinite)).toBe(true);
    expect(decoderRowNorms(sae)[1]).toBeCloseTo(1, 6);
  });

  it('maps hook names to submodules and back', () => {
    const cases: [string, string | null][] = [
      ['blocks.0.hook_resid_pre', 'embed'],
      ['hook_embed', 'embed'],
      ['blocks.3.hook_resid_pre', 'resid_2'],
      ['blocks.0.hook_resid_post', 'resid_0'],
      ['blocks.5.hook_resid_post', 'resid_5'],
      ['blocks.2.hook_attn_out', 'attn_2'],
      ['blocks.11.attn.hook_z', 'attn_11'],
      ['blocks.4.hook_mlp_out', 'mlp_4'],
      ['blocks.4.hook_mlp_in', null],
      ['blocks.4.ln1.hook_normalized', null],
    ];
    for (const [hook, sub] of cases) expect(hookToSubmodule(hook)).toBe(sub);
    for (const sub of ['embed', 'attn_0', 'mlp_3', 'resid_5']) expect(hookToSubmodule(submoduleToHook(sub))).toBe(sub);
    expect(submoduleToHook('attn_2')).toBe('blocks.2.hook_attn_out');
  });

  it('reads old (hook_point) and SAELens ≥ 6 (metadata, architecture) cfg files; JumpReLU uses the threshold', () => {
    const dir = tempDir('cfg');
    const sae = randomSae(4, D, F);
    const old = loadSaelensSae(writeSaelens(join(dir, 'old'), sae, { d_in: D, d_sae: F, hook_point: 'blocks.1.hook_mlp_out', activation_fn: 'relu' }));
    expect(old.cfg.submodule).toBe('mlp_1');
    expect(old.sae.applyBDecToInput).toBe(true); // SAELens default

    const jr: Sae = { ...sae, kind: 'jumprelu', threshold: Float32Array.from({ length: F }, (_, i) => 0.02 * i) };
    const v6 = loadSaelensSae(
      writeSaelens(join(dir, 'v6'), jr, {
        architecture: 'jumprelu', d_in: D, d_sae: F, apply_b_dec_to_input: false, normalize_activations: 'none',
        metadata: { model_name: 'gemma-2-2b', hook_name: 'blocks.2.hook_resid_post', hook_head_index: null },
      }),
    );
    expect(v6.cfg.submodule).toBe('resid_2');
    expect(v6.sae.kind).toBe('jumprelu');
    expect(v6.sae.applyBDecToInput).toBe(false);
    expect(v6.sae.threshold).toEqual(jr.threshold);
    // Every active feature clears its threshold; the same SAE without one has more features.
    const x = randomArray(mulberry32(9), 4 * D, 1.5);
    let fewer = 0;
    const plain = encodeRef({ ...v6.sae, kind: 'relu' }, x);
    encodeRef(v6.sae, x).forEach((row, r) => {
      row.indices.forEach((i, k) => expect(row.values[k]).toBeGreaterThan(jr.threshold![i]!));
      fewer += plain[r]!.indices.length - row.indices.length;
    });
    expect(fewer).toBeGreaterThan(0);
  });
});

describe('loader errors name the file and the problem', () => {
  const sae = randomSae(5, D, F);

  it('ae.pt: missing key', () => {
    const state = aeState(sae);
    delete (state as Record<string, unknown>)['encoder.bias'];
    const path = writeAe(join(tempDir('e1'), 'mlp_out_layer0', '10_40'), sae, state);
    expect(() => loadAutoEncoder(path)).toThrow(`${path}: missing key 'encoder.bias'`);
  });

  it('ae.pt: wrong shape', () => {
    const state = aeState(sae);
    state['decoder.weight'] = { shape: [D, F + 1], data: new Float32Array(D * (F + 1)) };
    const path = writeAe(join(tempDir('e2'), 'ae'), sae, state);
    expect(() => loadAutoEncoder(path)).toThrow(`${path}: 'decoder.weight' has shape [${D},${F + 1}], expected [${D},${F}] (from encoder.weight [${F}, ${D}])`);
    const s2 = aeState(sae);
    s2.bias = { shape: [1, D], data: sae.bDec };
    const p2 = writeAe(join(tempDir('e2b'), 'ae'), sae, s2);
    expect(() => loadAutoEncoder(p2)).toThrow(`${p2}: 'bias' has shape [1,${D}], expected [${D}]`);
  });

  it('ae.pt: keys of another SAE class', () => {
    const state = { ...aeState(sae), r_mag: { shape: [F], data: new Float32Array(F) } };
    const path = writeAe(join(tempDir('e3'), 'ae'), sae, state);
    expect(() => loadAutoEncoder(path)).toThrow(`${path}: unexpected key(s) r_mag`);
  });

  it('SAELens: missing key, wrong shape, cfg disagreeing with the weights', () => {
    const dir = tempDir('e4');
    const w = {
      W_enc: { shape: [D, F], data: new Float32Array(D * F) },
      b_enc: { shape: [F], data: new Float32Array(F) },
      b_dec: { shape: [D], data: new Float32Array(D) },
    };
    writeSaelens(join(dir, 'a'), sae, flatCfg(sae, 'blocks.0.hook_mlp_out'), w);
    expect(() => loadSaelensSae(join(dir, 'a'))).toThrow(`${join(dir, 'a', 'sae_weights.safetensors')}: missing key 'W_dec'`);
    writeSaelens(join(dir, 'b'), sae, flatCfg(sae, 'blocks.0.hook_mlp_out'), { ...w, W_dec: { shape: [F, D + 1], data: new Float32Array(F * (D + 1)) } });
    expect(() => loadSaelensSae(join(dir, 'b'))).toThrow(`'W_dec' has shape [${F},${D + 1}], expected [${F},${D}]`);
    writeSaelens(join(dir, 'c'), sae, flatCfg(sae, 'blocks.0.hook_mlp_out', { d_in: 512 }));
    expect(() => loadSaelensSae(join(dir, 'c'))).toThrow(`W_enc is [${D}, ${F}] but ${join(dir, 'c', 'cfg.json')} says d_in 512`);
  });

  it('SAELens: unsupported cfg', () => {
    const dir = tempDir('e5');
    const cases: [Record<string, unknown>, string][] = [
      [flatCfg(sae, 'blocks.0.hook_mlp_out', { activation_fn_str: 'topk' }), "SAE architecture 'topk' is not supported"],
      [{ ...flatCfg(sae, 'x'), architecture: 'gated' }, "SAE architecture 'gated' is not supported"],
      [flatCfg(sae, 'blocks.0.hook_mlp_out', { normalize_activations: 'expected_average_only_in' }), "normalize_activations 'expected_average_only_in' is not supported"],
      [flatCfg(sae, 'blocks.0.hook_mlp_out', { hook_name: undefined }), 'no hook_name (or hook_point)'],
      [flatCfg(sae, 'blocks.0.hook_mlp_out', { hook_head_index: 3 }), 'per-head SAEs'],
    ];
    cases.forEach(([cfg, msg], i) => {
      writeSaelens(join(dir, `c${i}`), sae, cfg);
      expect(() => loadSaelensSae(join(dir, `c${i}`))).toThrow(`${join(dir, `c${i}`, 'cfg.json')}: ${msg}`);
    });
    writeFileSync(join(dir, 'c0', 'cfg.json'), '{ not json');
    expect(() => loadSaelensSae(join(dir, 'c0'))).toThrow(`${join(dir, 'c0', 'cfg.json')}: invalid JSON`);
  });

  it('NaN or infinite weights are refused on load, naming the file, tensor and position', () => {
    const dir = tempDir('nan');
    // ae.pt: the encoder is scanned, the decoder is caught through its row norms.
    let st = aeState(sae);
    st['encoder.weight'] = { ...st['encoder.weight'], data: st['encoder.weight'].data.slice() };
    st['encoder.weight'].data[7 * D + 2] = NaN;
    let path = writeAe(join(dir, 'a'), sae, st);
    expect(() => loadAutoEncoder(path)).toThrow(`${path}: tensor 'encoder.weight' has 1 non-finite value (first: NaN at [7, 2])`);
    st = aeState(sae);
    st['decoder.weight'] = { ...st['decoder.weight'], data: st['decoder.weight'].data.slice() };
    st['decoder.weight'].data[3 * F + 11] = Infinity; // decoder.weight is [D, F]: row 3, column 11
    path = writeAe(join(dir, 'b'), sae, st);
    expect(() => loadAutoEncoder(path)).toThrow(`${path}: tensor 'decoder.weight' has non-finite values (first found: Infinity at [3, 11])`);
    st = aeState(sae);
    st.bias = { ...st.bias, data: st.bias.data.slice() };
    st.bias.data[D - 1] = -Infinity;
    path = writeAe(join(dir, 'c'), sae, st);
    expect(() => loadAutoEncoder(path)).toThrow(`${path}: tensor 'bias' has 1 non-finite value (first: -Infinity at [${D - 1}])`);
    // SAELens: W_enc through its transpose's row norms, W_dec and the biases scanned.
    const wEnc = new Float32Array(D * F);
    for (let i = 0; i < F; i++) for (let q = 0; q < D; q++) wEnc[q * F + i] = sae.enc[i * D + q];
    wEnc[5 * F + 9] = NaN; // W_enc [D, F]
    const base = { W_enc: { shape: [D, F], data: wEnc }, b_enc: { shape: [F], data: sae.bEnc }, W_dec: { shape: [F, D], data: sae.dec }, b_dec: { shape: [D], data: sae.bDec } };
    let sl = writeSaelens(join(dir, 'd'), sae, flatCfg(sae, 'blocks.0.hook_mlp_out'), base);
    expect(() => loadSaelensSae(sl)).toThrow(`${join(sl, 'sae_weights.safetensors')}: tensor 'W_enc' has non-finite values (first found: NaN at [5, 9])`);
    const dec = sae.dec.slice();
    dec[2 * D + 4] = NaN;
    sl = writeSaelens(join(dir, 'e'), sae, flatCfg(sae, 'blocks.0.hook_mlp_out'), { ...base, W_enc: { shape: [D, F], data: wEnc.map((v) => (Number.isNaN(v) ? 0 : v)) }, W_dec: { shape: [F, D], data: dec } });
    expect(() => loadSaelensSae(sl)).toThrow(`${join(sl, 'sae_weights.safetensors')}: tensor 'W_dec' has 1 non-finite value (first: NaN at [2, 4])`);
  });

  it('SAELens: JumpReLU without a threshold', () => {
    const dir = writeSaelens(join(tempDir('e6'), 'j'), sae, { ...flatCfg(sae, 'blocks.0.hook_resid_post'), architecture: 'jumprelu' });
    expect(() => loadSaelensSae(dir)).toThrow("missing key 'threshold' (cfg.json says architecture jumprelu)");
  });
});
