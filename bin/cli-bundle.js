// Which `sfc` to run: the bundle scripts/build-cli.js wrote into out/cli, when every source it
// was built from still has the modification time recorded in its manifest; else null (run the
// TypeScript sources). A stat per source, about a millisecond in all.
import { readFileSync, statSync } from 'node:fs';

/** URL of `sfc.js` in `dir` (a URL ending in '/') if fresh against sources under `root`, else null. */
export function freshBundle(dir, root) {
  try {
    const { inputs } = JSON.parse(readFileSync(new URL('manifest.json', dir), 'utf8'));
    for (const [file, mtimeMs] of Object.entries(inputs)) if (statSync(new URL(file, root)).mtimeMs !== mtimeMs) return null;
    return new URL('sfc.js', dir).href;
  } catch {
    return null; // no bundle, or a source was moved away
  }
}
