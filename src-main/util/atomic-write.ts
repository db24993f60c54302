/**
 * Writing output files so that nothing saved is lost: the destination is checked before a long
 * job starts (an unwritable --out should not cost the computation), and the bytes go to a
 * unique temporary file in the destination's folder that is renamed over the target only once
 * complete. A full disk or a crash then leaves the previous file as it was, and two runs
 * writing the same path each rename a whole file (the last one wins) instead of interleaving.
 */
import { accessSync, closeSync, constants, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';

function why(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}: ${err.message.replace(/^[A-Z]+: /, '')}` : String(err.message ?? e);
}

/**
 * Throws, naming `path`, unless a file can be written there: its folder exists, is a folder and
 * is writable, and `path` itself is not a folder. Cheap (a few stat calls); call it before
 * starting the work whose result goes to `path`.
 */
export function checkWritable(path: string): void {
  const abs = resolve(path);
  const dir = dirname(abs);
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${path}: cannot write here: ${code === 'ENOENT' ? `folder ${dir} does not exist` : code === 'ENOTDIR' ? `${dir} is not a folder` : why(e)}`);
  }
  if (!st.isDirectory()) throw new Error(`${path}: cannot write here: ${dir} is not a folder`);
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new Error(`${path}: cannot write here: folder ${dir} is not writable (${why(e)})`);
  }
  let target;
  try {
    target = statSync(abs);
  } catch {
    return; // does not exist yet: fine
  }
  if (target.isDirectory()) throw new Error(`${path}: cannot write here: it is a folder (give a file name)`);
}

/** A fresh temporary name next to `path` (same folder, so the final rename stays on one file system). */
export function tempPathFor(path: string): string {
  const abs = resolve(path);
  return join(dirname(abs), `.${basename(abs)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Writes `data` to `path` atomically: into tempPathFor(path), flushed, then renamed over `path`.
 * `data` may be a string (UTF-8), bytes, or a function that writes through the open descriptor
 * (for large files written in pieces). On any failure the temporary file is removed, `path` is
 * left untouched and the error names `path`.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array | readonly Uint8Array[] | ((fd: number) => void)): void {
  const tmp = tempPathFor(path);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'wx');
    if (typeof data === 'function') data(fd);
    else for (const piece of typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data) writeAll(fd, piece);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        /* already failing; the first error is the one to report */
      }
    }
    rmSync(tmp, { force: true });
    throw new Error(`${path}: cannot write (${why(e)}); any previous file there is unchanged`);
  }
}

/** Writes all of `bytes` at the descriptor's position (writeSync may write less than asked). */
export function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.byteLength) done += writeSync(fd, bytes, done, Math.min(bytes.byteLength - done, 1 << 30));
}
