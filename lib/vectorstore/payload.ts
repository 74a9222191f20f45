/**
 * Run-time checks of what goes into a store: points, vectors and payloads, with errors that name the point and the
 * field. Both stores call these before writing, so a bad point fails the same way everywhere.
 */
import { z } from 'zod';
import type { ChunkPayload, ParentRecord, Point } from './types';

/** ChunkPayload as a schema; unknown keys are kept (stores carry them through as extras). */
export const chunkPayloadSchema = z.looseObject({
  docId: z.string().min(1),
  chunkIndex: z.number().int().nonnegative(),
  parentId: z.string(),
  sourceId: z.string(),
  sourceType: z.enum(['web', 'git', 'folder', 's3']),
  location: z.string(),
  url: z.string().optional(),
  path: z.string().optional(),
  title: z.string().optional(),
  author: z.string().optional(),
  publishedAt: z.string().optional(),
  publishedTs: z.number().refine(Number.isFinite, 'expected a finite number').optional(),
  language: z.string().optional(),
  tags: z.array(z.string()),
  headingPath: z.string(),
  chunkHash: z.string(),
  contentHash: z.string(),
  model: z.string(),
});

export const parentRecordSchema = z.object({
  parentId: z.string().min(1),
  docId: z.string().min(1),
  text: z.string(),
  headingPath: z.string(),
});

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

export function validateVector(vector: unknown, dimension: number, what: string): void {
  if (!Array.isArray(vector) && !(vector instanceof Float32Array)) throw new Error(`${what}: vector must be an array of numbers`);
  if (vector.length !== dimension) {
    throw new Error(`${what}: vector has ${vector.length} dimensions but the collection has ${dimension}`);
  }
  for (const x of vector) if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`${what}: vector contains a non-finite value (${x})`);
}

/** Validates points for a collection of `dimension`, and keeps the last of several points with the same id. */
export function preparePoints(points: Point[], dimension: number, collection: string): Point[] {
  const byId = new Map<string, Point>();
  for (const p of points) {
    if (!p || typeof p.id !== 'string' || p.id === '') throw new Error(`Invalid point for "${collection}": id must be a non-empty string`);
    const what = `Invalid point "${p.id}" for "${collection}"`;
    validateVector(p.vector, dimension, what);
    if (typeof p.text !== 'string') throw new Error(`${what}: text must be a string`);
    const parsed = chunkPayloadSchema.safeParse(p.payload);
    if (!parsed.success) throw new Error(`${what}: payload ${describeIssues(parsed.error)}`);
    byId.set(p.id, p);
  }
  return [...byId.values()];
}

export function prepareParents(parents: ParentRecord[], collection: string): ParentRecord[] {
  const byId = new Map<string, ParentRecord>();
  for (const p of parents) {
    const parsed = parentRecordSchema.safeParse(p);
    if (!parsed.success) throw new Error(`Invalid parent record for "${collection}": ${describeIssues(parsed.error)}`);
    byId.set(p.parentId, parsed.data);
  }
  return [...byId.values()];
}

/** The payload keys that ChunkPayload declares; anything else is an extra. */
export const CHUNK_PAYLOAD_KEYS = Object.keys(chunkPayloadSchema.shape) as Array<keyof ChunkPayload>;
