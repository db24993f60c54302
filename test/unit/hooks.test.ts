/** The one registry of hook names and topology (models/hooks.ts) and the names built from it. */
import { describe, expect, it } from 'vitest';
import {
  edgeBlockSpecs, hookName, hookPointNames, hookRef, kindOf, lastResidHook, layerInputHook, layerOf, parseHook, siblingHook,
} from '../../src-main/models/hooks';
import { dictionaryLearningFolder, standardSubmodules } from '../../src-main/saes/load';
import { hookToSubmodule, submoduleToHook } from '../../src-main/saes/saelens';

describe('hook names', () => {
  it('name ⇄ (kind, layer) round-trips, in model order', () => {
    const names = hookPointNames(2);
    expect(names).toEqual(['embed', 'attn_0', 'mlp_0', 'resid_0', 'attn_1', 'mlp_1', 'resid_1']);
    for (const n of names) {
      const r = hookRef(n);
      expect(hookName(r.kind, r.layer)).toBe(n);
      expect([kindOf(n), layerOf(n)]).toEqual([r.kind, r.layer]);
    }
    expect(hookPointNames(1, { embed: false })).toEqual(['attn_0', 'mlp_0', 'resid_0']);
    expect(standardSubmodules(2)).toEqual(names);
    for (const bad of ['resid', 'resid_', 'resid_01', 'res_1', 'embed_0', 'mlp_-1', '']) expect(parseHook(bad), bad).toBeNull();
    expect(() => layerOf('blocks.1')).toThrow("unknown submodule 'blocks.1' (expected embed, attn_<l>, mlp_<l> or resid_<l>)");
  });

  it('topology: layer inputs, parallel siblings, and the five edge blocks per layer, last layer first', () => {
    expect([layerInputHook(0), layerInputHook(3), lastResidHook(6)]).toEqual(['embed', 'resid_2', 'resid_5']);
    expect([siblingHook('attn_4'), siblingHook('mlp_4')]).toEqual(['mlp_4', 'attn_4']);
    expect(() => siblingHook('resid_1')).toThrow(/no parallel sibling/);
    const blocks = edgeBlockSpecs(2).map((b) => `${b.up}>${b.down}:${b.via}`);
    expect(blocks).toEqual([
      'mlp_1>resid_1:identity', 'attn_1>resid_1:identity', 'resid_0>mlp_1:mlp', 'resid_0>attn_1:attn', 'resid_0>resid_1:identity',
      'mlp_0>resid_0:identity', 'attn_0>resid_0:identity', 'embed>mlp_0:mlp', 'embed>attn_0:attn', 'embed>resid_0:identity',
    ]);
    // Without embed (e.g. Gemma-style sets) layer 0 has no incoming blocks.
    expect(edgeBlockSpecs(2, hookPointNames(2, { embed: false })).filter((b) => b.down.endsWith('_0'))).toEqual([
      { up: 'mlp_0', down: 'resid_0', via: 'identity' },
      { up: 'attn_0', down: 'resid_0', via: 'identity' },
    ]);
  });

  it('file-format names are built from it (dictionary_learning folders, TransformerLens hooks)', () => {
    expect(hookPointNames(2).map(dictionaryLearningFolder)).toEqual(['embed', 'attn_out_layer0', 'mlp_out_layer0', 'resid_out_layer0', 'attn_out_layer1', 'mlp_out_layer1', 'resid_out_layer1']);
    for (const n of hookPointNames(3)) expect(hookToSubmodule(submoduleToHook(n))).toBe(n);
    expect(hookToSubmodule('blocks.2.hook_resid_pre')).toBe('resid_1');
    expect(() => dictionaryLearningFolder('attn')).toThrow(/unknown submodule 'attn'/);
  });
});
