/**
 * The hook points of a parallel-residual GPT-NeoX model, in one place: their names ⇄
 * (kind, layer), their order, and the topology between them (which hook's output feeds which).
 * Like TransformerLens's hook_points.py, this registry is the only owner of hook names:
 * loaders, the model's forward pass, attribution and file formats build and parse names here.
 * docs/method-notes.md ("Model and hook points") describes the layout.
 *
 *   embed    = h_0                        the token embeddings
 *   attn_l   = Attn_l(LN1_l(h_l))          mlp_l = MLP_l(LN2_l(h_l))      (parallel branches)
 *   resid_l  = h_{l+1} = h_l + attn_l + mlp_l
 */

export type HookKind = 'embed' | 'attn' | 'mlp' | 'resid';

/** A hook point as (kind, layer); embed has layer −1 (before layer 0). */
export interface HookRef {
  kind: HookKind;
  layer: number;
}

export const EMBED = 'embed';

const LAYER_KINDS = ['attn', 'mlp', 'resid'] as const;
const NAME = /^(attn|mlp|resid)_(0|[1-9]\d*)$/;

/** The name of (kind, layer): hookName('attn', 2) = 'attn_2', hookName('embed') = 'embed'. */
export function hookName(kind: HookKind, layer = -1): string {
  if (kind === 'embed') return EMBED;
  if (!Number.isInteger(layer) || layer < 0) throw new Error(`hook ${kind}: layer must be a non-negative integer, got ${layer}`);
  return `${kind}_${layer}`;
}

/** (kind, layer) of a hook name, or null when it is not one. */
export function parseHook(name: string): HookRef | null {
  if (name === EMBED) return { kind: 'embed', layer: -1 };
  const m = NAME.exec(name);
  return m ? { kind: m[1] as HookKind, layer: Number(m[2]) } : null;
}

/** (kind, layer) of a hook name; throws naming it when it is not one. */
export function hookRef(name: string): HookRef {
  const r = parseHook(name);
  if (!r) throw new Error(`unknown submodule '${name}' (expected embed, attn_<l>, mlp_<l> or resid_<l>)`);
  return r;
}

/** Layer of a hook point; embed is −1 (before layer 0). */
export function layerOf(name: string): number {
  return hookRef(name).layer;
}

export function kindOf(name: string): HookKind {
  return hookRef(name).kind;
}

/** Every hook point of a model with `numLayers` layers, in model order: embed, attn_0, mlp_0, resid_0, attn_1, … */
export function hookPointNames(numLayers: number, opts: { embed?: boolean } = {}): string[] {
  const out = opts.embed === false ? [] : [EMBED];
  for (let l = 0; l < numLayers; l++) for (const k of LAYER_KINDS) out.push(hookName(k, l));
  return out;
}

// ---- topology -------------------------------------------------------------------------------

/** The hook holding layer l's input h_l: embed for l = 0, else resid_{l−1}. */
export function layerInputHook(l: number): string {
  return l === 0 ? EMBED : hookName('resid', l - 1);
}

/** The last residual stream h_L (what the head reads). */
export function lastResidHook(numLayers: number): string {
  return hookName('resid', numLayers - 1);
}

/** The other parallel branch of layer l: attn_l ↔ mlp_l. */
export function siblingHook(name: string): string {
  const { kind, layer } = hookRef(name);
  if (kind !== 'attn' && kind !== 'mlp') throw new Error(`${name} has no parallel sibling (only attn_l and mlp_l do)`);
  return hookName(kind === 'attn' ? 'mlp' : 'attn', layer);
}

/** The hook points whose output goes straight into h_{l+1}: attn_l, mlp_l and resid_l itself. */
export function hooksIntoLayerOutput(l: number): string[] {
  return LAYER_KINDS.map((k) => hookName(k, l));
}

/**
 * One edge block: upstream hook → downstream hook, and how the downstream reads the upstream
 * (identity: added into the residual stream; attn / mlp: through that layer's branch).
 */
export interface EdgeBlockSpec {
  up: string;
  down: string;
  via: 'identity' | 'attn' | 'mlp';
}

/**
 * The edge blocks of a parallel-residual model, last layer first (the original's loop order),
 * keeping those whose two ends are in `have` (all when absent). Per layer: mlp_l → resid_l,
 * attn_l → resid_l, prev → mlp_l, prev → attn_l and the skip prev → resid_l, with prev the
 * layer's input hook; there is no attn_l → mlp_l edge (the branches are parallel).
 */
export function edgeBlockSpecs(numLayers: number, have?: Iterable<string>): EdgeBlockSpec[] {
  const keep = have ? new Set(have) : null;
  const out: EdgeBlockSpec[] = [];
  for (let l = numLayers - 1; l >= 0; l--) {
    const prev = layerInputHook(l);
    const [attn, mlp, resid] = hooksIntoLayerOutput(l);
    const blocks: EdgeBlockSpec[] = [
      { up: mlp, down: resid, via: 'identity' },
      { up: attn, down: resid, via: 'identity' },
      { up: prev, down: mlp, via: 'mlp' },
      { up: prev, down: attn, via: 'attn' },
      { up: prev, down: resid, via: 'identity' },
    ];
    out.push(...blocks.filter((b) => !keep || (keep.has(b.up) && keep.has(b.down))));
  }
  return out;
}
