// Types for scripts/start-plan.js (plain JavaScript so `npm start` runs before any build).
export declare const BUILD_INPUTS: string[];
export declare const BUILD_OUTPUTS: string[];
export declare const DEMO_MODEL: string;

export interface OutputMtime {
  path: string;
  mtimeMs: number | null;
}
export type ElectronBinary = { path: string } | { missing: string };
export type Face =
  | { face: 'electron'; executable: string; args: string[] }
  | { face: 'serve'; model: string; reason: string };
type Env = Record<string, string | undefined>;

export declare function buildStaleness(newestInputMs: number, outputs: OutputMtime[]): { stale: boolean; why: string };
export declare function newestMtime(root: string, paths: string[]): number;
export declare function outputMtimes(root: string, paths: string[]): OutputMtime[];
export declare function electronBinary(
  pkgDir: string | null,
  env?: Env,
  fs?: { existsSync(p: string): boolean; readFileSync(p: string, enc: 'utf8'): string },
): ElectronBinary;
export declare function serveModel(args: string[], env?: Env): string;
export declare function chooseFace(o: { electron: ElectronBinary; platform: string; env: Env; args: string[] }): Face;
export declare function onPath(name: string, env?: Env, exists?: (p: string) => boolean): boolean;
export declare function browserOpener(
  platform: string,
  env?: Env,
  hasCommand?: (name: string) => boolean,
): { command: string; args: string[] } | null;
