/**
 * How a LanceDB table stores points and parents: the Arrow schemas, and the mapping between a Point (payload as an
 * object) and a row (payload fields as real columns, so filters push down into the scan and into scalar indexes).
 * `tags` is List<Utf8>; payload keys ChunkPayload does not declare ride along as JSON in `extra`.
 */
import { Field, FixedSizeList, Float32, Float64, Int32, List, Schema, Utf8 } from 'apache-arrow';
import { CHUNK_PAYLOAD_KEYS } from './payload';
import type { ChunkPayload, Hit, Point } from './types';

/** Marks the key column as the primary key, so concurrent merge-inserts on the same ids conflict instead of duplicating. */
const PRIMARY_KEY = new Map([['lance-schema:unenforced-primary-key', 'true']]);
const REQUIRED_STRINGS = ['docId', 'parentId', 'sourceId', 'sourceType', 'location', 'headingPath', 'chunkHash', 'contentHash', 'model'] as const;
const OPTIONAL_STRINGS = ['url', 'path', 'title', 'author', 'publishedAt', 'language'] as const;
export const PAYLOAD_COLUMNS = [...REQUIRED_STRINGS, ...OPTIONAL_STRINGS, 'chunkIndex', 'publishedTs', 'tags', 'extra'];
/** What a read of a point selects (without its vector). */
export const HIT_COLUMNS = ['id', 'text', ...PAYLOAD_COLUMNS];

export function chunkSchema(dimension: number): Schema {
  const utf8 = (name: string, nullable: boolean) => new Field(name, new Utf8(), nullable);
  return new Schema([
    new Field('id', new Utf8(), false, PRIMARY_KEY),
    new Field('vector', new FixedSizeList(dimension, new Field('item', new Float32(), true)), false),
    utf8('text', false),
    ...REQUIRED_STRINGS.map((n) => utf8(n, false)),
    ...OPTIONAL_STRINGS.map((n) => utf8(n, true)),
    new Field('chunkIndex', new Int32(), false),
    new Field('publishedTs', new Float64(), true),
    new Field('tags', new List(new Field('item', new Utf8(), true)), false),
    utf8('extra', true),
  ]);
}

export const PARENTS_SCHEMA = new Schema([
  new Field('parentId', new Utf8(), false, PRIMARY_KEY),
  new Field('docId', new Utf8(), false),
  new Field('text', new Utf8(), false),
  new Field('headingPath', new Utf8(), false),
]);

export function pointToRow(p: Point): Record<string, unknown> {
  const payload = p.payload as unknown as Record<string, unknown>;
  const row: Record<string, unknown> = { id: p.id, vector: p.vector, text: p.text };
  for (const k of REQUIRED_STRINGS) row[k] = payload[k];
  for (const k of OPTIONAL_STRINGS) row[k] = payload[k] ?? null;
  row.chunkIndex = payload.chunkIndex;
  row.publishedTs = payload.publishedTs ?? null;
  row.tags = payload.tags;
  const extra = Object.fromEntries(Object.entries(payload).filter(([k]) => !(CHUNK_PAYLOAD_KEYS as string[]).includes(k)));
  row.extra = Object.keys(extra).length > 0 ? JSON.stringify(extra) : null;
  return row;
}

/** Arrow list/vector values come back as Arrow Vectors; plain arrays pass through. */
export function toArray<T>(value: unknown): T[] {
  if (Array.isArray(value)) return value as T[];
  if (value && typeof (value as { toArray?: unknown }).toArray === 'function') return Array.from((value as { toArray(): Iterable<T> }).toArray());
  return [];
}

export function rowToPayload(row: Record<string, unknown>): ChunkPayload {
  const payload: Record<string, unknown> = {};
  for (const k of REQUIRED_STRINGS) payload[k] = row[k];
  payload.chunkIndex = row.chunkIndex;
  for (const k of OPTIONAL_STRINGS) if (row[k] !== null && row[k] !== undefined) payload[k] = row[k];
  if (row.publishedTs !== null && row.publishedTs !== undefined) payload.publishedTs = row.publishedTs;
  payload.tags = toArray<string>(row.tags);
  if (typeof row.extra === 'string') Object.assign(payload, JSON.parse(row.extra));
  return payload as unknown as ChunkPayload;
}

export function rowToHit(row: Record<string, unknown>, score: number): Hit {
  return { id: row.id as string, score, text: row.text as string, payload: rowToPayload(row) };
}
