/**
 * src-main/view is bundled into the renderer and run by the CLI (docs/figures.md): it may import
 * its own modules, and only types from elsewhere; never Node, Electron, DOM libraries, React, or
 * jobs/api/app/cli.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = join(process.cwd(), 'src-main', 'view');

describe('src-main/view imports', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  it.each(files)('%s imports only sibling modules at run time', (f) => {
    const src = readFileSync(join(dir, f), 'utf8');
    const imports = [...src.matchAll(/^\s*(import|export)\s+(type\s+)?[^;]*?\sfrom\s+'([^']+)'/gm)].map((m) => ({ typeOnly: !!m[2], spec: m[3] }));
    for (const i of imports) {
      if (i.typeOnly) expect(i.spec, `${f}: type import from ${i.spec}`).not.toMatch(/\/(jobs|api|app|cli)\//);
      else expect(i.spec, `${f}: run-time import of ${i.spec}`).toMatch(/^\.\/[\w-]+$/);
    }
    expect(src).not.toMatch(/\brequire\(|import\(/);
  });
  it('covers the folder', () => expect(files.length).toBeGreaterThanOrEqual(7));
});
