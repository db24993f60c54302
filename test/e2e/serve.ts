/**
 * Starts `sfc serve` as a child process, the way a user does, and reads the URL it prints.
 * Runs `node bin/sfc.js serve`; while the CLI does not know `serve` yet (or with
 * SFC_E2E_DIRECT=1) it runs the serve command straight from its source through tsx.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Served {
  url: string;
  origin: string;
  token: string;
  stop(): Promise<void>;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function directArgs(args: string[]): string[] {
  return ['bin/run-ts.js', 'test/e2e/serve-direct.ts', ...args];
}

/**
 * Each start gets its own store in a fresh temporary folder (never the user's library) unless
 * the caller passes --db, and the test channels (debug.*) are on.
 */
export async function startServe(args: string[] = []): Promise<Served> {
  const db = args.includes('--db') ? [] : ['--db', join(mkdtempSync(join(tmpdir(), 'sfc-e2e-')), 'sfc.db')];
  const all = ['--port', '0', ...db, ...args];
  if (!process.env.SFC_E2E_DIRECT) {
    try {
      return await launch(['bin/sfc.js', 'serve', ...all]);
    } catch (e) {
      if (!/unknown command 'serve'/.test(String(e))) throw e;
    }
  }
  return launch(directArgs(all));
}

async function launch(nodeArgs: string[]): Promise<Served> {
  const child = spawn(process.execPath, nodeArgs, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SFC_TEST_CHANNELS: '1' } });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => {
      child.kill();
      fail(new Error(`sfc serve printed no URL within 30 s\nstderr: ${err}`));
    }, 30_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`sfc serve exited (${code}) before printing a URL\nstdout: ${out}\nstderr: ${err}`));
    });
  });
  const u = new URL(url);
  return {
    url,
    origin: u.origin,
    token: u.searchParams.get('token')!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
