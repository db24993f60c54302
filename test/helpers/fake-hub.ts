/**
 * A fake Hugging Face Hub on 127.0.0.1 for the hub tests: repositories held in memory, answering
 * the requests the client makes, with the headers the real Hub sends.
 *
 *   GET  /api/models/<repo>/revision/<rev>        model info with `sha` (modelInfo)
 *   POST /api/models/<repo>/paths-info/<rev>      sizes and hashes (pathsInfo)
 *   HEAD|GET /<repo>/resolve/<rev>/<path>         small files: 200 + ETag (git sha1) + X-Repo-Commit;
 *                                                 LFS files: 302 to the "CDN" + X-Linked-Etag (sha256),
 *                                                 X-Linked-Size, X-Repo-Commit
 *   GET  <cdn>/lfs/<sha256>                       the bytes, on another origin; refuses an
 *                                                 Authorization header (as a presigned S3 URL does)
 *
 * Both answer Range requests (206 + Content-Range, 416 past the end). Gated repositories answer
 * 401 without a token and 403 with a wrong one (X-Error-Code: GatedRepo). Faults for the tests:
 * drop the connection after N bytes, serve corrupt bytes, ignore Range. Every request is logged.
 * Only 127.0.0.1 is bound.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface FakeFile {
  path: string;
  bytes: Uint8Array;
  lfs: boolean;
}

export interface FakeRepo {
  repo: string;
  commit: string;
  branch: string;
  files: Map<string, FakeFile>;
  gated: boolean;
}

export interface LoggedRequest {
  server: 'hub' | 'cdn';
  method: string;
  url: string;
  range: string | null;
  auth: string | null;
}

export interface Faults {
  /** Per path (`<repo>/<file>`): close the connection after this many body bytes, for the next `times` requests. */
  drop: Map<string, { after: number; times: number }>;
  /** Per path: serve bytes with one flipped bit, for the next `times` requests. */
  corrupt: Map<string, { times: number }>;
  /** Answer Range requests with the whole file (200), as some proxies do. */
  ignoreRange: boolean;
}

export const gitSha1 = (b: Uint8Array): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Files under `dir` as repository files; `lfs` decides which are stored with git LFS. */
export function filesFromDir(dir: string, lfs: (path: string) => boolean = (p) => /\.(safetensors|bin|pt|zip)$/.test(p)): FakeFile[] {
  const out: FakeFile[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const path = relative(dir, p).split(sep).join('/');
        out.push({ path, bytes: new Uint8Array(readFileSync(p)), lfs: lfs(path) });
      }
    }
  };
  walk(dir);
  return out;
}

export const GOOD_TOKEN = 'hf_testtoken_good';

export class FakeHub {
  readonly repos = new Map<string, FakeRepo>();
  readonly log: LoggedRequest[] = [];
  readonly faults: Faults = { drop: new Map(), corrupt: new Map(), ignoreRange: false };
  private hub!: Server;
  private cdn!: Server;
  url = '';
  cdnUrl = '';

  addRepo(repo: string, files: FakeFile[], opts: { gated?: boolean; branch?: string } = {}): FakeRepo {
    const commit = createHash('sha1').update(`${repo}:${files.map((f) => `${f.path}:${sha256(f.bytes)}`).join(',')}`).digest('hex');
    const r: FakeRepo = { repo, commit, branch: opts.branch ?? 'main', files: new Map(files.map((f) => [f.path, f])), gated: !!opts.gated };
    this.repos.set(repo, r);
    return r;
  }

  async start(): Promise<this> {
    this.hub = createServer((req, res) => this.serveHub(req, res));
    this.cdn = createServer((req, res) => this.serveCdn(req, res));
    for (const s of [this.hub, this.cdn]) await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.hub.address() as AddressInfo).port}`;
    this.cdnUrl = `http://127.0.0.1:${(this.cdn.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const s of [this.hub, this.cdn]) {
      s.closeAllConnections();
      await new Promise<void>((ok) => s.close(() => ok()));
    }
  }

  requests(server?: 'hub' | 'cdn'): LoggedRequest[] {
    return server ? this.log.filter((r) => r.server === server) : this.log;
  }

  private record(server: 'hub' | 'cdn', req: IncomingMessage): void {
    this.log.push({ server, method: req.method ?? 'GET', url: req.url ?? '', range: req.headers.range ?? null, auth: req.headers.authorization ?? null });
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    res.writeHead(status, { 'Content-Type': 'application/json', 'X-Error-Code': code, 'X-Error-Message': message });
    res.end(JSON.stringify({ error: message }));
  }

  /**
   * Repository by the first two path segments; null when answered. Like the Hub, a gated
   * repository's metadata is public and only its files need a token (`gate`).
   */
  private repoFor(req: IncomingMessage, res: ServerResponse, owner: string, name: string, gate = false): FakeRepo | null {
    const r = this.repos.get(`${owner}/${name}`);
    if (!r) {
      this.error(res, 404, 'RepoNotFound', `Repository Not Found for url: ${req.url}.`);
      return null;
    }
    if (r.gated && gate) {
      const auth = req.headers.authorization;
      if (!auth) {
        this.error(res, 401, 'GatedRepo', `Access to model ${r.repo} is restricted. You must have access to it and be authenticated to access it. Please log in.`);
        return null;
      }
      if (auth !== `Bearer ${GOOD_TOKEN}`) {
        this.error(res, 403, 'GatedRepo', `Access to model ${r.repo} is restricted and you are not in the authorized list. Visit https://huggingface.co/${r.repo} to ask for access.`);
        return null;
      }
    }
    return r;
  }

  private revision(r: FakeRepo, rev: string, res: ServerResponse): boolean {
    if (rev === r.branch || rev === r.commit) return true;
    this.error(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
    return false;
  }

  private serveHub(req: IncomingMessage, res: ServerResponse): void {
    this.record('hub', req);
    const url = new URL(req.url ?? '/', this.url);
    const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
    if (parts[0] === 'api' && parts[1] === 'models') {
      const [, , owner, name, what, rev] = parts;
      const r = this.repoFor(req, res, owner!, name!);
      if (!r || !this.revision(r, rev ?? '', res)) return;
      if (what === 'revision' && req.method === 'GET') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({
          _id: `id-${r.repo}`, id: r.repo, sha: r.commit, private: false, gated: r.gated ? 'manual' : false, downloads: 0, likes: 0, lastModified: '2024-01-01T00:00:00.000Z',
          siblings: [...r.files.keys()].map((rfilename) => ({ rfilename })),
        }));
        return;
      }
      if (what === 'paths-info' && req.method === 'POST') {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          const paths = (JSON.parse(body) as { paths: string[] }).paths;
          const out = paths.filter((p) => r.files.has(p)).map((p) => {
            const f = r.files.get(p)!;
            // Like the Hub: an LFS file's `oid` is the git sha1 of its pointer file, `lfs.oid` its sha256.
            const pointer = new TextEncoder().encode(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(f.bytes)}\nsize ${f.bytes.length}\n`);
            return f.lfs
              ? { type: 'file', path: p, oid: gitSha1(pointer), size: f.bytes.length, lfs: { oid: sha256(f.bytes), size: f.bytes.length, pointerSize: pointer.length } }
              : { type: 'file', path: p, oid: gitSha1(f.bytes), size: f.bytes.length };
          });
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(out));
        });
        return;
      }
      this.error(res, 404, 'NotFound', 'no such API route');
      return;
    }
    // /<owner>/<name>/resolve/<rev>/<path...>
    if (parts[2] === 'resolve') {
      const [owner, name, , rev, ...rest] = parts;
      const r = this.repoFor(req, res, owner!, name!, true);
      if (!r || !this.revision(r, rev ?? '', res)) return;
      const f = r.files.get(rest.join('/'));
      if (!f) {
        this.error(res, 404, 'EntryNotFound', `${rest.join('/')} does not exist on "${r.branch}"`);
        return;
      }
      if (f.lfs) {
        res.writeHead(302, {
          Location: `${this.cdnUrl}/lfs/${sha256(f.bytes)}?repo=${encodeURIComponent(r.repo)}&path=${encodeURIComponent(f.path)}`,
          'X-Repo-Commit': r.commit,
          'X-Linked-Etag': `"${sha256(f.bytes)}"`,
          'X-Linked-Size': String(f.bytes.length),
          ETag: `"${gitSha1(f.bytes)}"`,
          'Content-Length': '0',
        });
        res.end();
        return;
      }
      this.sendBytes(req, res, `${r.repo}/${f.path}`, f.bytes, { 'X-Repo-Commit': r.commit, ETag: `"${gitSha1(f.bytes)}"` });
      return;
    }
    this.error(res, 404, 'NotFound', `no route for ${url.pathname}`);
  }

  private serveCdn(req: IncomingMessage, res: ServerResponse): void {
    this.record('cdn', req);
    const url = new URL(req.url ?? '/', this.cdnUrl);
    if (req.headers.authorization) {
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end('Only one auth mechanism allowed');
      return;
    }
    const m = /^\/lfs\/([0-9a-f]{64})$/.exec(url.pathname);
    const repo = this.repos.get(url.searchParams.get('repo') ?? '');
    const f = repo?.files.get(url.searchParams.get('path') ?? '');
    if (!m || !repo || !f || sha256(f.bytes) !== m[1]) {
      res.writeHead(404);
      res.end();
      return;
    }
    this.sendBytes(req, res, `${repo.repo}/${f.path}`, f.bytes, { ETag: `"${m[1]}"` });
  }

  /** The bytes, honouring Range, with the faults set for `key`. */
  private sendBytes(req: IncomingMessage, res: ServerResponse, key: string, bytes: Uint8Array, headers: Record<string, string>): void {
    let start = 0;
    let end = bytes.length - 1;
    let status = 200;
    const range = this.faults.ignoreRange ? undefined : req.headers.range;
    if (range) {
      const m = /^bytes=(\d+)-(\d*)$/.exec(range);
      if (!m || Number(m[1]) >= bytes.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${bytes.length}` });
        res.end();
        return;
      }
      start = Number(m[1]);
      end = m[2] ? Math.min(Number(m[2]), bytes.length - 1) : bytes.length - 1;
      status = 206;
    }
    let body = Buffer.from(bytes.subarray(start, end + 1));
    const corrupt = this.faults.corrupt.get(key);
    if (corrupt && corrupt.times > 0 && req.method !== 'HEAD') {
      corrupt.times--;
      body = Buffer.from(body);
      body[body.length >> 1] ^= 0x40;
    }
    res.writeHead(status, {
      ...headers,
      'Content-Length': String(body.length),
      'Accept-Ranges': 'bytes',
      'Content-Type': 'application/octet-stream',
      ...(status === 206 ? { 'Content-Range': `bytes ${start}-${end}/${bytes.length}` } : {}),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const drop = this.faults.drop.get(key);
    if (drop && drop.times > 0) {
      drop.times--;
      // Send part of the body, then cut the connection as a network failure would.
      res.write(body.subarray(0, Math.min(drop.after, body.length)), () => setTimeout(() => res.socket?.destroy(), 100));
      return;
    }
    res.end(body);
  }
}
