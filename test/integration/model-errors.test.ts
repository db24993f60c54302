/** Bad model folders: every error names the file and the problem. */
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionCache } from '../../src-main/engine/session';
import { loadNeoxFolder } from '../../src-main/models/load';
import { writeSafetensors, readSafetensors } from '../../src-main/models/safetensors';
import { writeRandomNeoxFolder } from '../helpers/neox-folder';

const root = mkdtempSync(join(tmpdir(), 'sfc-bad-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const sessions = new SessionCache({ threads: 1 });
let k = 0;
const fresh = () => writeRandomNeoxFolder(join(root, `m${k++}`), { seed: 1 });

function editConfig(dir: string, f: (c: Record<string, unknown>) => void): void {
  const p = join(dir, 'config.json');
  const c = JSON.parse(readFileSync(p, 'utf8'));
  f(c);
  writeFileSync(p, JSON.stringify(c));
}

function rewriteWeights(dir: string, f: (t: Record<string, { shape: number[]; data: Float32Array; dtype?: 'F32' | 'F16' | 'BF16' }>) => void): void {
  const p = join(dir, 'model.safetensors');
  const src = readSafetensors(p);
  const t: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const n of src.names()) {
    const x = src.getTensor(n);
    t[n] = { shape: x.shape, data: x.data };
  }
  f(t);
  writeSafetensors(p, t);
}

describe('model folder errors', () => {
  it('a missing config key', async () => {
    const m = fresh();
    editConfig(m.dir, (c) => delete c.num_attention_heads);
    await expect(loadNeoxFolder(m.dir, sessions)).rejects.toThrow(/config\.json: missing key 'num_attention_heads'/);
  });
  it('a missing tensor', async () => {
    const m = fresh();
    rewriteWeights(m.dir, (t) => delete t['gpt_neox.layers.1.mlp.dense_4h_to_h.bias']);
    await expect(loadNeoxFolder(m.dir, sessions)).rejects.toThrow(/model\.safetensors.*gpt_neox\.layers\.1\.mlp\.dense_4h_to_h\.bias/);
  });
  it('a tensor of the wrong shape', async () => {
    const m = fresh();
    rewriteWeights(m.dir, (t) => {
      const w = t['gpt_neox.layers.0.attention.dense.weight'];
      t['gpt_neox.layers.0.attention.dense.weight'] = { shape: [w.shape[0] / 2, w.shape[1]], data: w.data.subarray(0, w.data.length / 2) };
    });
    await expect(loadNeoxFolder(m.dir, sessions)).rejects.toThrow(/model\.safetensors: tensor 'gpt_neox\.layers\.0\.attention\.dense\.weight' has shape \[32,64\], expected \[64,64\]/);
  });
  it('an unsupported dtype', async () => {
    const m = fresh();
    const p = join(m.dir, 'model.safetensors');
    const src = readSafetensors(p);
    // Rewrite the file by hand with one tensor stored as FP8 (1 byte per element).
    const header: Record<string, unknown> = {};
    const parts: Buffer[] = [];
    let off = 0;
    for (const n of src.names()) {
      const t = src.getTensor(n);
      const fp8 = n === 'gpt_neox.final_layer_norm.bias';
      const bytes = fp8 ? Buffer.alloc(t.data.length) : Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      header[n] = { dtype: fp8 ? 'F8_E4M3' : 'F32', shape: t.shape, data_offsets: [off, off + bytes.length] };
      parts.push(bytes);
      off += bytes.length;
    }
    let json = JSON.stringify(header);
    json = json.padEnd(Math.ceil(json.length / 8) * 8);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    writeFileSync(p, Buffer.concat([len, Buffer.from(json), ...parts]));
    await expect(loadNeoxFolder(m.dir, sessions)).rejects.toThrow(/model\.safetensors.*final_layer_norm\.bias.*F8_E4M3|model\.safetensors.*F8_E4M3.*final_layer_norm/);
  });
  it('a truncated safetensors file', async () => {
    const m = fresh();
    const p = join(m.dir, 'model.safetensors');
    truncateSync(p, statSync(p).size - 1000);
    await expect(loadNeoxFolder(m.dir, sessions)).rejects.toThrow(/model\.safetensors.*(truncated|outside|beyond|end)/i);
  });
  it('a tokenizer that does not match the vocabulary size', async () => {
    const m = fresh();
    editConfig(m.dir, (c) => (c.vocab_size = 20));
    rewriteWeights(m.dir, (t) => {
      for (const name of ['gpt_neox.embed_in.weight', 'embed_out.weight']) t[name] = { shape: [20, 64], data: t[name].data.subarray(0, 20 * 64) };
    });
    await expect(loadNeoxFolder(m.dir, sessions)).rejects.toThrow(/tokenizer\.json: tokenizer produces ids up to \d+ but the model has only 20 embedding rows/);
  });
  it('a NaN or infinite weight is refused on load, naming the file, tensor and position', async () => {
    const m = fresh();
    rewriteWeights(m.dir, (t) => {
      t['gpt_neox.layers.1.mlp.dense_h_to_4h.weight'].data[3 * 64 + 5] = NaN;
    });
    await expect(loadNeoxFolder(m.dir, sessions)).rejects.toThrow(
      /model\.safetensors: tensor 'gpt_neox\.layers\.1\.mlp\.dense_h_to_4h\.weight' has 1 non-finite value \(first: NaN at \[3, 5\]\)/,
    );
    const m2 = fresh();
    rewriteWeights(m2.dir, (t) => {
      t['gpt_neox.final_layer_norm.bias'].data[2] = -Infinity;
      t['gpt_neox.final_layer_norm.bias'].data[7] = Infinity;
    });
    await expect(loadNeoxFolder(m2.dir, sessions)).rejects.toThrow(/tensor 'gpt_neox\.final_layer_norm\.bias' has 2 non-finite values \(first: -Infinity at \[2\]\)/);
  });
  it('predict refuses non-finite logits from finite weights that overflow float32', async () => {
    const m = fresh();
    rewriteWeights(m.dir, (t) => t['gpt_neox.final_layer_norm.weight'].data.fill(3e38));
    const model = await loadNeoxFolder(m.dir, sessions);
    await expect(model.predictNext('The author', 3)).rejects.toThrow(/logits after "The author" have \d+ non-finite values/);
  });
  it('no weights at all', async () => {
    const m = fresh();
    rmSync(join(m.dir, 'model.safetensors'));
    await expect(loadNeoxFolder(m.dir, sessions)).rejects.toThrow(/no model\.safetensors or model\.safetensors\.index\.json/);
  });
  it('loads F16, BF16 and sharded checkpoints to the same model', async () => {
    for (const opts of [{ dtype: 'F16' as const }, { dtype: 'BF16' as const }, { sharded: true }]) {
      const m = writeRandomNeoxFolder(join(root, `m${k++}`), { seed: 1, ...opts });
      const model = await loadNeoxFolder(m.dir, sessions);
      expect(model.weight('embed_out.weight').data).toEqual(m.weights['embed_out.weight']);
    }
  });
});
