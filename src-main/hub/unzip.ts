/**
 * Unpacks a zip archive (the dictionary_learning release ships its 19 ae.pt files as one zip)
 * into a folder, streaming each entry through a small buffer so a multi-GB archive never sits in
 * memory. The zip structure is read by the torch-file reader's zip code (zip64 included); each
 * entry's size and CRC-32 are checked. Entries go to `<dest>.partial-<pid>` first, which is
 * renamed to `dest` only when everything is out, so `dest` existing means a complete unpack.
 */
import { mkdirSync, renameSync, rmSync, existsSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw, crc32 } from 'node:zlib';
import { entryDataOffset, fileSource, openZip } from '../saes/torch-zip';
import { CancelledError } from '../util/job-context';

const CHUNK = 1 << 22;

async function* readRange(fh: FileHandle, start: number, length: number, signal: AbortSignal | undefined, onRead: (bytes: number) => void): AsyncGenerator<Buffer> {
  let done = 0;
  while (done < length) {
    if (signal?.aborted) throw new CancelledError();
    const n = Math.min(CHUNK, length - done);
    const buf = Buffer.allocUnsafe(n);
    const { bytesRead } = await fh.read(buf, 0, n, start + done);
    if (bytesRead === 0) throw new Error('unexpected end of file');
    done += bytesRead;
    onRead(done);
    yield buf.subarray(0, bytesRead);
  }
}

/** An entry name as a safe relative path, or an error naming the archive and the entry. */
function safeName(zipPath: string, name: string): string[] {
  const parts = name.replace(/\/+$/, '').split('/');
  if (name.startsWith('/') || name.includes('\\') || /^[A-Za-z]:/.test(name) || parts.some((p) => p === '..' || p === '')) {
    throw new Error(`${zipPath}: refusing to unpack entry '${name}' (its path would leave the destination folder)`);
  }
  return parts;
}

export interface UnzipOptions {
  signal?: AbortSignal;
  /** Compressed bytes read so far, of the archive's total. */
  onProgress?(done: number, total: number, entry: string): void;
}

/** Unpacks `zipPath` into `dest` (which must not exist yet). Returns the number of files. */
export async function unzipTo(zipPath: string, dest: string, opts: UnzipOptions = {}): Promise<number> {
  const src = fileSource(zipPath, { map: false });
  let zip;
  try {
    zip = openZip(src);
  } catch (e) {
    src.close();
    throw e;
  }
  const partial = `${dest}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const total = zip.order.reduce((a, n) => a + zip.entries.get(n)!.compressedSize, 0);
  let done = 0;
  let files = 0;
  const fh = await open(zipPath, 'r');
  try {
    for (const name of zip.order) {
      const entry = zip.entries.get(name)!;
      const parts = safeName(zipPath, name);
      const out = join(partial, ...parts);
      if (name.endsWith('/')) {
        mkdirSync(out, { recursive: true });
        continue;
      }
      if (entry.method !== 0 && entry.method !== 8) throw new Error(`${zipPath}: entry ${name} uses compression method ${entry.method} (only stored and deflate are supported)`);
      mkdirSync(dirname(out), { recursive: true });
      const start = entryDataOffset(zip, entry);
      const w = await open(out, 'w');
      let crc = 0;
      let size = 0;
      try {
        const source = Readable.from(readRange(fh, start, entry.compressedSize, opts.signal, (read) => opts.onProgress?.(done + read, total, name)));
        const sink = async (chunks: AsyncIterable<Buffer>): Promise<void> => {
          for await (const c of chunks) {
            size += c.length;
            if (size > entry.size) throw new Error(`${zipPath}: entry ${name} inflates past its declared ${entry.size} bytes (corrupt archive)`);
            crc = crc32(c, crc);
            await w.write(c);
          }
        };
        if (entry.method === 8) await pipeline(source, createInflateRaw(), sink);
        else await pipeline(source, sink);
        await w.sync();
      } catch (e) {
        if (opts.signal?.aborted || e instanceof CancelledError) throw new CancelledError();
        throw new Error(`${zipPath}: cannot unpack ${name}: ${(e as Error).message}`);
      } finally {
        await w.close();
      }
      if (size !== entry.size) throw new Error(`${zipPath}: entry ${name} has ${size} bytes, the archive says ${entry.size} (corrupt archive)`);
      if ((crc >>> 0) !== entry.crc) throw new Error(`${zipPath}: entry ${name} fails its CRC-32 check (corrupt archive)`);
      done += entry.compressedSize;
      files++;
    }
    if (existsSync(dest)) rmSync(partial, { recursive: true, force: true }); // another process finished first
    else renameSync(partial, dest);
    return files;
  } catch (e) {
    rmSync(partial, { recursive: true, force: true });
    throw e;
  } finally {
    await fh.close();
    src.close();
  }
}
