import type { Command } from '../command';
import { UsageError } from '../command';
import { fmtBytes } from '../../hub/fetch';
import { inspectPath, type Inspection } from '../../hub/inspect';

/** The report `sfc inspect` prints (the app shows the same facts from hub.inspect). */
export function formatInspection(r: Inspection): string {
  const lines: string[] = [r.path];
  if (r.snapshot) lines.push(`  hub cache repository: inspecting snapshot ${r.snapshot}`);
  const m = r.model;
  if (m) {
    lines.push(`  model   ${m.modelType}: ${m.layers ?? '?'} layers, width ${m.width ?? '?'}, ${m.heads ?? '?'} heads, MLP ${m.intermediate ?? '?'}, vocabulary ${m.vocab ?? '?'}`);
    if (m.weights) lines.push(`          ${m.weights.file}: ${m.weights.parameters.toLocaleString('en-US')} values (${m.weights.dtypes.join(', ')}), ${fmtBytes(m.weights.bytesOnDisk)} on disk, ${fmtBytes(m.bytesLoaded)} loaded`);
    lines.push(`          tokenizer.json ${m.tokenizer ? 'present' : 'missing'}; ${m.supported ? 'supported' : 'NOT supported'}${m.problem ? `: ${m.problem}` : ''}`);
  }
  const s = r.saes;
  if (s) {
    lines.push(`  SAEs    ${s.layout} in ${s.root}: ${s.submodules.length} submodules, ${fmtBytes(s.bytesLoaded)} loaded`);
    for (const h of s.submodules) lines.push(`          ${h.submodule.padEnd(9)} ${String(h.features).padStart(6)} features × ${h.width}  ${h.kind.padEnd(8)} ${h.dtype.padEnd(8)} ${fmtBytes(h.bytesOnDisk).padStart(10)}  ${h.path}`);
    if (s.missing.length) lines.push(`          missing: ${s.missing.join(', ')}`);
    for (const n of s.notes) lines.push(`  note    ${n}`);
    for (const p of s.problems) lines.push(`  problem ${p}`);
  }
  if (m && s) lines.push(`  memory  model ${fmtBytes(m.bytesLoaded)} + dictionaries ${fmtBytes(s.bytesLoaded)} before the run's working memory`);
  for (const p of r.problems) lines.push(`  problem ${p}`);
  return lines.join('\n');
}

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'Say what a folder holds (model type, layers, width; which submodules have SAEs, their widths and kinds), reading headers only',
  usage: 'sfc inspect PATH [--json]\n  PATH: a model folder, an SAE folder (dictionary_learning or SAELens), or a hub cache repository (models--owner--name)',
  positionals: true,
  options: { json: { type: 'boolean', default: false } },
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError('give one PATH to inspect');
    let r: Inspection;
    try {
      r = inspectPath(positionals[0]!);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (values.json) console.log(JSON.stringify(r));
    // Nothing recognised is an error (exit 1); problems in what was found are part of the report.
    if (!r.model && !r.saes) throw new Error(r.problems.join('; '));
    if (!values.json) console.log(formatInspection(r));
  },
};
