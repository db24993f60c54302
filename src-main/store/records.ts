/**
 * What the store hands out, as zod schemas: the API contract (api/contract.ts) uses these as
 * its response shapes, so the store, the API and the renderer share one definition.
 */
import { z } from 'zod';

const id = z.number().int().positive();
const tags = z.array(z.string());

export const ModelRecord = z.object({
  id,
  name: z.string(),
  path: z.string(),
  sha256: z.string(),
  architecture: z.string(),
  config: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  tags,
  createdAt: z.string(),
});

export const SubmoduleShape = z.object({ name: z.string(), features: z.number().int(), kind: z.string() });

export const SaeSetRecord = z.object({
  id,
  name: z.string(),
  path: z.string().nullable(),
  sha256: z.string(),
  layout: z.string(),
  modelId: id.nullable(),
  submodules: z.array(SubmoduleShape).nullable(),
  tags,
  createdAt: z.string(),
});

export const DatasetKind = z.enum(['agreement', 'cluster', 'generated', 'demo', 'bios']);
/** bios-jsonl: Bias in Bios professors and nurses with a split field (data/bias-in-bios.ts). */
export const DatasetFormat = z.enum(['jsonl', 'cluster-json', 'bios-jsonl']);
export const DatasetRecord = z.object({
  id,
  name: z.string(),
  kind: DatasetKind,
  format: DatasetFormat,
  source: z.string().nullable(),
  sha256: z.string(),
  examples: z.number().int(),
  tags,
  createdAt: z.string(),
});

/** An edit that makes a new circuit version from its parent. */
export const CircuitEdit = z.discriminatedUnion('op', [
  z.object({ op: z.literal('prune'), nodes: z.array(z.string().max(200)).min(1).max(100_000) }),
  z.object({ op: z.literal('keepOnly'), nodes: z.array(z.string().max(200)).min(1).max(100_000) }),
  z.object({ op: z.literal('group'), name: z.string().min(1).max(200), nodes: z.array(z.string().max(200)).min(1).max(10_000) }),
  z.object({ op: z.literal('ungroup'), name: z.string().min(1).max(200) }),
  /** Circuit-local node labels (null removes one); feature annotations are separate and shared. */
  z.object({ op: z.literal('relabel'), labels: z.record(z.string().max(200), z.string().max(500).nullable()) }),
]);

export const CircuitSummary = z.object({
  id,
  name: z.string(),
  versionLabel: z.string().nullable(),
  parentId: id.nullable(),
  rootId: id,
  edit: CircuitEdit.nullable(),
  modelId: id.nullable(),
  saeSetId: id.nullable(),
  datasetId: id.nullable(),
  parameters: z.record(z.string(), z.unknown()),
  nodes: z.number().int(),
  edges: z.number().int().nullable(),
  tags,
  createdAt: z.string(),
});

export const AnnotationRecord = z.object({
  saeSet: z.string(),
  submodule: z.string(),
  feature: z.union([z.number().int().nonnegative(), z.literal('error')]),
  text: z.string(),
  notes: z.string().nullable(),
  updatedAt: z.string(),
});

export const AnnotationChange = z.object({
  text: z.string().nullable(),
  notes: z.string().nullable(),
  source: z.string(),
  changedAt: z.string(),
});

export const ResultRecord = z.object({
  id,
  circuitId: id,
  params: z.record(z.string(), z.unknown()),
  result: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});

export type ModelRecord = z.output<typeof ModelRecord>;
export type SaeSetRecord = z.output<typeof SaeSetRecord>;
export type SubmoduleShape = z.output<typeof SubmoduleShape>;
export type DatasetKind = z.output<typeof DatasetKind>;
export type DatasetFormat = z.output<typeof DatasetFormat>;
export type DatasetRecord = z.output<typeof DatasetRecord>;
export type CircuitEdit = z.output<typeof CircuitEdit>;
export type CircuitSummary = z.output<typeof CircuitSummary>;
export type AnnotationRecord = z.output<typeof AnnotationRecord>;
export type AnnotationChange = z.output<typeof AnnotationChange>;
export type ResultRecord = z.output<typeof ResultRecord>;
