/**
 * Positional reads that fill the whole target: readSync returns at most 2 GiB per call and may
 * return less near the end of a file. Returns how many bytes it got (less than asked only at
 * the end of the file), so each reader words its own "truncated" error.
 */
import { readSync } from 'node:fs';

export function readFully(fd: number, target: Uint8Array, position: number): number {
  let done = 0;
  while (done < target.length) {
    const n = readSync(fd, target, done, Math.min(target.length - done, 1 << 30), position + done);
    if (n <= 0) break;
    done += n;
  }
  return done;
}
