/** Small generated SAEs written in both on-disk layouts, for the saes-* tests. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync, crc32 } from 'node:zlib';
import { writeSafetensors } from '../../src-main/models/safetensors';
import type { Sae } from '../../src-main/saes/types';
import { type TensorIn, writeTorchFile } from '../../src-main/saes/write-torch';
import { mulberry32, randn } from './random';

const made: string[] = [];

/** A fresh temporary folder, removed by cleanupTempDirs (call it from afterAll). */
export function tempDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `sfc-saes-${tag}-`));
  made.push(dir);
  return dir;
}

export function cleanupTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function randomArray(rand: () => number, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => randn(rand) * scale);
}

/** A random ReLU SAE in canonical layout; decoder rows unit norm unless `decNorms` is given. */
export function randomSae(seed: number, d: number, f: number, opts: { decNorms?: (i: number) => number; source?: string } = {}): Sae {
  const rand = mulberry32(seed);
  const dec = randomArray(rand, f * d);
  for (let i = 0; i < f; i++) {
    const row = dec.subarray(i * d, (i + 1) * d);
    const n = Math.hypot(...row);
    const target = opts.decNorms ? opts.decNorms(i) : 1;
    for (let j = 0; j < d; j++) row[j] = (row[j]! / n) * target;
  }
  return {
    kind: 'relu',
    d,
    f,
    enc: randomArray(rand, f * d, 1 / Math.sqrt(d)),
    // Slightly negative biases so that roughly half the features fire.
    bEnc: randomArray(rand, f, 0.1),
    dec,
    bDec: randomArray(rand, d, 0.5),
    applyBDecToInput: true,
    source: opts.source ?? `random(${seed})`,
  };
}

function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}

/** The dictionary_learning AutoEncoder state_dict of a canonical ReLU SAE (written in torch's key order). */
export function aeState(sae: Sae): Record<string, TensorIn> {
  return {
    bias: { shape: [sae.d], data: sae.bDec },
    'encoder.weight': { shape: [sae.f, sae.d], data: sae.enc },
    'encoder.bias': { shape: [sae.f], data: sae.bEnc },
    'decoder.weight': { shape: [sae.d, sae.f], data: transpose(sae.dec, sae.f, sae.d) },
  };
}

/** Writes `<dir>/ae.pt` (creating dir) and returns its path. */
export function writeAe(dir: string, sae: Sae, state = aeState(sae)): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'ae.pt');
  writeTorchFile(path, state);
  return path;
}

/** Writes a SAELens folder (cfg.json + sae_weights.safetensors). */
export function writeSaelens(
  dir: string,
  sae: Sae,
  cfg: Record<string, unknown>,
  tensors?: Record<string, { shape: number[]; data: Float32Array }>,
): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify(cfg, null, 2));
  writeSafetensors(
    join(dir, 'sae_weights.safetensors'),
    tensors ?? {
      W_enc: { shape: [sae.d, sae.f], data: transpose(sae.enc, sae.f, sae.d) },
      b_enc: { shape: [sae.f], data: sae.bEnc },
      W_dec: { shape: [sae.f, sae.d], data: sae.dec },
      b_dec: { shape: [sae.d], data: sae.bDec },
      ...(sae.threshold ? { threshold: { shape: [sae.f], data: sae.threshold } } : {}),
    },
  );
  return dir;
}

/** A flat (SAELens < 6) cfg.json for a Pythia SAE. */
export function flatCfg(sae: Sae, hookName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    d_in: sae.d,
    d_sae: sae.f,
    dtype: 'float32',
    device: 'cpu',
    model_name: 'pythia-70m-deduped',
    hook_name: hookName,
    hook_layer: 0,
    hook_head_index: null,
    activation_fn_str: 'relu',
    apply_b_dec_to_input: true,
    finetuning_scaling_factor: false,
    normalize_activations: 'none',
    context_size: 128,
    prepend_bos: false,
    ...extra,
  };
}

/**
 * A minimal zip, written independently of write-torch.ts's zip code: entries stored or deflated,
 * no alignment, optional data descriptor flag. For testing the reader on archives it did not write.
 */
export function buildZip(files: [string, Uint8Array][], opts: { deflate?: boolean } = {}): Uint8Array {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let pos = 0;
  for (const [name, data] of files) {
    const nameBuf = Buffer.from(name, 'utf8');
    const body = opts.deflate ? deflateRawSync(data) : Buffer.from(data);
    const crc = crc32(data) >>> 0;
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(opts.deflate ? 8 : 0, 8);
    h.writeUInt32LE(crc, 14);
    h.writeUInt32LE(body.length, 18);
    h.writeUInt32LE(data.length, 22);
    h.writeUInt16LE(nameBuf.length, 26);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(opts.deflate ? 8 : 0, 10);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(body.length, 20);
    c.writeUInt32LE(data.length, 24);
    c.writeUInt16LE(nameBuf.length, 28);
    c.writeUInt32LE(pos, 42);
    central.push(c, nameBuf);
    parts.push(h, nameBuf, body);
    pos += 30 + nameBuf.length + body.length;
  }
  const cd = Buffer.concat(central);
  const e = Buffer.alloc(22);
  e.writeUInt32LE(0x06054b50, 0);
  e.writeUInt16LE(files.length, 8);
  e.writeUInt16LE(files.length, 10);
  e.writeUInt32LE(cd.length, 12);
  e.writeUInt32LE(pos, 16);
  return new Uint8Array(Buffer.concat([...parts, cd, e]));
}
