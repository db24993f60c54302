/**
 * The circuit interchange file (docs/circuit-format.md): what `sfc discover` writes, `sfc
 * evaluate` and the app read. Node ids follow the original: `resid_5/3036`, `resid_5/error`,
 * with `@<position>` appended in position-resolved circuits.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import type { NodeTotals } from './discover';
import type { Aggregation } from './edges';

export const CIRCUIT_FORMAT = 'sfc-circuit';
export const CIRCUIT_VERSION = 1;

// ---- schema (docs/circuit-format.md) --------------------------------------------------------

const finite = z.number().refine(Number.isFinite, { message: 'must be a finite number' });
const count = (min: number) => z.number().int().min(min);

export const CircuitNodeSchema = z.object({
  id: z.string(),
  submodule: z.string(),
  /** Feature index, or "error" for the SAE error node (index F in the masks). */
  feature: z.union([count(0), z.literal('error')]),
  /** Position-resolved circuits only (aggregation none). */
  position: count(0).optional(),
  effect: finite,
});

export const CircuitEdgeSchema = z.object({
  source: z.string(),
  /** A node id, or "y" (the metric) for the last residual's edges. */
  target: z.string(),
  weight: finite,
});

export const CircuitParametersSchema = z.object({
  method: z.enum(['ig', 'attrib', 'exact']),
  steps: count(1),
  aggregation: z.enum(['sum', 'none']),
  nodeThreshold: finite.pipe(z.number().min(0)),
  edgeThreshold: finite.pipe(z.number().min(0)),
  keepAll: z.boolean(),
  nodesOnly: z.boolean(),
  examples: count(0),
  batchSize: count(1),
  seed: z.number().int(),
  nopair: z.boolean(),
  neurons: z.boolean(),
  /**
   * Absent: the next-token metric. A classifier circuit (SHIFT, docs/shift.md) names its probe
   * layer and the labels in its metric; its nodes are the features with effect > nodeThreshold
   * (signed).
   */
  metric: z
    .object({
      kind: z.literal('probe'),
      layer: count(0),
      trainSet: z.enum(['ambiguous', 'balanced']),
      label: z.enum(['profession', 'gender']),
      selection: z.literal('signed'),
      /** The store's probe, when the circuit was discovered from the store. */
      probeId: count(1).optional(),
    })
    .optional(),
});

export const FileHashSchema = z.object({
  path: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
});

export const CircuitSubmoduleSchema = z.object({
  name: z.string().min(1),
  features: count(1),
  kind: z.enum(['relu', 'jumprelu', 'identity']),
});

/** The shape of a circuit file, field by field (cross-field rules: validateCircuitFile). */
export const CircuitFileSchema = z.object({
  format: z.literal(CIRCUIT_FORMAT),
  version: count(1).max(CIRCUIT_VERSION, `this app reads circuit files up to version ${CIRCUIT_VERSION}`),
  createdAt: z.string(),
  app: z.object({ name: z.string(), version: z.string() }),
  parameters: CircuitParametersSchema,
  provenance: z.object({
    model: FileHashSchema,
    saes: z.union([FileHashSchema, z.object({ identity: z.literal(true) })]),
    data: FileHashSchema,
  }),
  /** In model order: F features per submodule (the error node is index F). */
  submodules: z.array(CircuitSubmoduleSchema).min(1),
  /** Token strings of the first example's clean prefix (position-resolved circuits), else null. */
  positions: z.array(z.string()).min(1).nullable(),
  examples: z.array(z.record(z.string(), z.unknown())),
  /** Mean of m(patch) − m(clean) over examples; null without patches. */
  totalEffect: finite.nullable(),
  nodes: z.array(CircuitNodeSchema),
  /** null with --nodes-only. */
  edges: z.array(CircuitEdgeSchema).nullable(),
});

export type CircuitNode = z.infer<typeof CircuitNodeSchema>;
export type CircuitEdge = z.infer<typeof CircuitEdgeSchema>;
export type CircuitParameters = z.infer<typeof CircuitParametersSchema>;
export type FileHash = z.infer<typeof FileHashSchema>;
export type CircuitFile = z.infer<typeof CircuitFileSchema>;

export function nodeId(submodule: string, feature: number | 'error', position?: number): string {
  return `${submodule}/${feature}${position === undefined ? '' : `@${position}`}`;
}

export interface SelectOptions {
  aggregation: Aggregation;
  nodeThreshold: number;
  edgeThreshold: number;
  keepAll: boolean;
  /** Number of features F per submodule. */
  features: Map<string, number>;
}

/** Mean effects → written nodes and edges (thresholds as documented in circuit-format.md). */
export function selectCircuit(t: NodeTotals, o: SelectOptions): { nodes: CircuitNode[]; edges: CircuitEdge[] | null } {
  const n = t.examples;
  const S = t.positions;
  const nodes: CircuitNode[] = [];
  const written = new Set<string>();
  const keepNode = (v: number): boolean => v !== 0 && (o.keepAll || Math.abs(v) > o.nodeThreshold);
  const keepEdge = (v: number): boolean => v !== 0 && (o.keepAll || Math.abs(v) > o.edgeThreshold);
  const idOf = (sub: string, F: number, flat: number): { id: string; feature: number | 'error'; position?: number } => {
    const position = o.aggregation === 'none' ? Math.floor(flat / (F + 1)) : undefined;
    const j = flat % (F + 1);
    const feature = j === F ? 'error' : j;
    return { id: nodeId(sub, feature, position), feature, position };
  };
  for (const [sub, sums] of t.effects) {
    const F = o.features.get(sub)!;
    sums.forEach((s, flat) => {
      const effect = s / n;
      if (!keepNode(effect)) return;
      const { id, feature, position } = idOf(sub, F, flat);
      nodes.push(position === undefined ? { id, submodule: sub, feature, effect } : { id, submodule: sub, feature, position, effect });
      written.add(id);
    });
  }
  if (!t.edges) return { nodes, edges: null };
  const edges: CircuitEdge[] = [];
  for (const [key, m] of t.edges) {
    const [up, down] = key.split('->');
    const Fu = o.features.get(up)!;
    const Fu1 = Fu + 1;
    for (const [k, sum] of m) {
      const weight = sum / n;
      if (!keepEdge(weight)) continue;
      let source: string, target: string;
      if (down === 'y') {
        source = idOf(up, Fu, k).id;
        target = 'y';
      } else {
        const Fd = o.features.get(down)!;
        if (o.aggregation === 'sum') {
          target = idOf(down, Fd, Math.floor(k / Fu1)).id;
          source = idOf(up, Fu, k % Fu1).id;
        } else {
          const j = k % Fu1;
          const rest = Math.floor(k / Fu1);
          const su = rest % S;
          const downFlat = Math.floor(rest / S); // sd·(Fd+1) + kd
          target = idOf(down, Fd, downFlat).id;
          source = idOf(up, Fu, su * Fu1 + j).id;
        }
      }
      // Even with keepAll an edge needs both ends written (a node whose mean effect is exactly 0 is
      // not), so every edge of the file refers to a node (validateCircuitFile checks it).
      if (!written.has(source) || (target !== 'y' && !written.has(target))) continue;
      edges.push({ source, target, weight });
    }
  }
  return { nodes, edges };
}

/** "nodes[3].feature" from a zod path. */
function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : `${out ? '.' : ''}${String(k)}`;
  return out || '(top level)';
}

/**
 * The rules between fields that the schema cannot state: node submodules are listed, features
 * and positions are in range, ids match (submodule, feature, position), edges join written
 * nodes (or the metric y), and the provenance agrees with the parameters. Returns
 * [field path, problem] pairs.
 */
export function circuitFileProblems(c: CircuitFile): [string, string][] {
  const out: [string, string][] = [];
  const F = new Map<string, number>();
  c.submodules.forEach((s, i) => {
    if (F.has(s.name)) out.push([`submodules[${i}].name`, `'${s.name}' is listed twice`]);
    F.set(s.name, s.features);
  });
  const resolved = c.parameters.aggregation === 'none';
  const S = c.positions?.length;
  if (resolved && S === undefined) out.push(['positions', "must list the token strings when parameters.aggregation is 'none'"]);
  if (!resolved && S !== undefined) out.push(['positions', `must be null when parameters.aggregation is '${c.parameters.aggregation}'`]);
  const neurons = 'identity' in c.provenance.saes;
  if (neurons !== c.parameters.neurons) {
    out.push(['provenance.saes', neurons ? 'is {identity: true} but parameters.neurons is false' : 'names an SAE folder but parameters.neurons is true']);
  }
  const ids = new Set<string>();
  c.nodes.forEach((n, i) => {
    const at = `nodes[${i}]`;
    const features = F.get(n.submodule);
    if (features === undefined) out.push([`${at}.submodule`, `'${n.submodule}' is not listed in submodules (${[...F.keys()].join(', ')})`]);
    else if (n.feature !== 'error' && n.feature >= features) out.push([`${at}.feature`, `${n.feature} is out of range: ${n.submodule} has ${features} features (0..${features - 1})`]);
    if (resolved && n.position === undefined) out.push([`${at}.position`, "is required in a position-resolved circuit (aggregation 'none')"]);
    if (!resolved && n.position !== undefined) out.push([`${at}.position`, `must be absent: positions are summed (aggregation '${c.parameters.aggregation}')`]);
    if (resolved && S !== undefined && n.position !== undefined && n.position >= S) out.push([`${at}.position`, `${n.position} is out of range: the circuit has ${S} positions (0..${S - 1})`]);
    const want = nodeId(n.submodule, n.feature, n.position);
    if (n.id !== want) out.push([`${at}.id`, `'${n.id}' does not match its submodule, feature and position (expected '${want}')`]);
    if (ids.has(n.id)) out.push([`${at}.id`, `'${n.id}' appears twice`]);
    ids.add(n.id);
  });
  c.edges?.forEach((e, i) => {
    if (!ids.has(e.source)) out.push([`edges[${i}].source`, `'${e.source}' is not a node of this circuit`]);
    if (e.target !== 'y' && !ids.has(e.target)) out.push([`edges[${i}].target`, `'${e.target}' is not a node of this circuit (or 'y')`]);
  });
  return out;
}

/** Parses a circuit file's JSON value; every complaint names `file` and the field path. */
export function validateCircuitFile(raw: unknown, file: string): CircuitFile {
  const fail = (problems: [string, string][], total = problems.length): never => {
    const shown = problems.slice(0, 8).map(([p, m]) => `${p}: ${m}`).join('; ');
    throw new Error(`${file}: ${shown}${total > 8 ? `; and ${total - 8} more problems` : ''}`);
  };
  // Say "not a circuit file" rather than listing every missing field of some other JSON.
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail([['(top level)', 'expected a JSON object (an sfc-circuit file)']]);
  const format = (raw as { format?: unknown }).format;
  if (format !== CIRCUIT_FORMAT) fail([['format', `${JSON.stringify(format)}: not a circuit file (expected "${CIRCUIT_FORMAT}")`]]);
  const parsed = CircuitFileSchema.safeParse(raw, { error: (iss) => (iss.input === undefined ? 'missing' : undefined) });
  if (!parsed.success) fail(parsed.error.issues.map((i) => [fieldPath(i.path), i.message]));
  const c = parsed.data!;
  const problems = circuitFileProblems(c);
  if (problems.length) fail(problems);
  return c;
}

/**
 * Provenance warnings for `sfc evaluate`: the circuit's stored model and SAE hashes against
 * the folders actually used (with --model / --saes, or after the files changed). A mismatch is
 * worth saying, not refusing: evaluating a circuit on another model is sometimes the point.
 */
export function provenanceWarnings(c: CircuitFile, file: string, used: { model: string; saes: string | null }, hash: (path: string) => string): string[] {
  const out: string[] = [];
  const check = (what: string, stored: FileHash, given: string): void => {
    const path = resolve(given);
    let now: string;
    try {
      now = hash(path);
    } catch (e) {
      out.push(`${file}: cannot hash the ${what} ${path} to compare with provenance.${what}.sha256 (${(e as Error).message})`);
      return;
    }
    if (now !== stored.sha256) {
      out.push(`${file}: provenance.${what}.sha256 does not match the ${what} used (${path}${stored.path !== path ? `; the circuit was found with ${stored.path}` : ', which has changed since'}): results may not be comparable`);
    }
  };
  check('model', c.provenance.model, used.model);
  const saes = c.provenance.saes;
  if ('path' in saes && used.saes) check('saes', saes, used.saes);
  return out;
}
