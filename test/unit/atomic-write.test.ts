/**
 * Output files: the destination checked before the work, bytes written to a unique temporary
 * file and renamed over the target. Before, --out was written in place after the job: a failed
 * write destroyed the previous file and two runs on one path could interleave.
 */
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkWritable, tempPathFor, writeFileAtomic } from '../../src-main/util/atomic-write';
import { writeJsonl } from '../../src-main/data/generator';
import { writeSafetensors } from '../../src-main/models/safetensors';
import { writeTorchFile } from '../../src-main/saes/write-torch';

const dir = mkdtempSync(join(tmpdir(), 'sfc-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('checkWritable', () => {
  it('accepts a new or existing file in a writable folder', () => {
    expect(() => checkWritable(join(dir, 'new.json'))).not.toThrow();
    writeFileSync(join(dir, 'old.json'), '{}');
    expect(() => checkWritable(join(dir, 'old.json'))).not.toThrow();
  });

  it('refuses, naming the path, a missing folder, a folder as target, and a file as folder', () => {
    const missing = join(dir, 'nope', 'c.json');
    expect(() => checkWritable(missing)).toThrow(`${missing}: cannot write here: folder ${join(dir, 'nope')} does not exist`);
    mkdirSync(join(dir, 'sub'));
    expect(() => checkWritable(join(dir, 'sub'))).toThrow(`${join(dir, 'sub')}: cannot write here: it is a folder (give a file name)`);
    writeFileSync(join(dir, 'f'), 'x');
    expect(() => checkWritable(join(dir, 'f', 'c.json'))).toThrow(/f[/\\]c\.json: cannot write here: .*f is not a folder/);
  });
});

describe('writeFileAtomic', () => {
  it('a write that fails part way leaves the previous file intact and no temporary file', () => {
    const p = join(dir, 'keep.json');
    writeFileSync(p, 'previous result');
    expect(() =>
      writeFileAtomic(p, (fd) => {
        writeSync(fd, Buffer.from('half of the new'));
        throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      }),
    ).toThrow(`${p}: cannot write (ENOSPC: no space left on device); any previous file there is unchanged`);
    expect(readFileSync(p, 'utf8')).toBe('previous result');
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('two writers of one path never interleave: each renames a whole file, the last one wins', () => {
    const p = join(dir, 'race.json');
    const a = 'A'.repeat(5000);
    const b = 'B'.repeat(3000);
    // Writer B runs to completion while writer A is half way through its bytes.
    writeFileAtomic(p, (fd) => {
      writeSync(fd, Buffer.from(a.slice(0, 2500)));
      writeFileAtomic(p, b);
      expect(readFileSync(p, 'utf8')).toBe(b);
      writeSync(fd, Buffer.from(a.slice(2500)));
    });
    expect(readFileSync(p, 'utf8')).toBe(a);
    expect(tempPathFor(p)).not.toBe(tempPathFor(p));
    expect(dirname(tempPathFor(p))).toBe(dir);
  });

  it('the project writers (JSONL, safetensors, torch) all go through it', () => {
    const rec = { clean_prefix: 'a', patch_prefix: 'b', clean_answer: ' c', patch_answer: ' d', case: 'x' };
    const writers: [string, (p: string) => void][] = [
      ['d.jsonl', (p) => writeJsonl(p, [rec])],
      ['w.safetensors', (p) => writeSafetensors(p, { w: { shape: [2], data: new Float32Array(2) } })],
      ['w.pt', (p) => writeTorchFile(p, { w: { shape: [2], data: new Float32Array(2) } })],
    ];
    for (const [name, write] of writers) {
      const missing = join(dir, 'gone', name);
      expect(() => write(missing), name).toThrow(`${missing}: cannot write (ENOENT`);
      const p = join(dir, name);
      writeFileSync(p, 'old');
      write(p);
      expect(readFileSync(p, 'utf8'), name).not.toBe('old');
    }
    expect(readFileSync(join(dir, 'd.jsonl'), 'utf8')).toBe('{"clean_prefix": "a", "patch_prefix": "b", "clean_answer": " c", "patch_answer": " d", "case": "x"}\n');
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

});
