/**
 * Stable identities. Everything that names data is derived from the data (or its canonical location), never from a
 * clock or a random number, so a retried activity writes the same keys and the same vector point ids.
 */
import { createHash } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';

/** Namespace for twinflow's UUIDv5 point ids (a fixed, arbitrary UUID). */
const POINT_NAMESPACE = '6f1c8a52-3c1e-4b8e-9a57-2f0d6c1b7e41';

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hash of a JSON-serialisable value with sorted keys, so logically equal objects hash equally. */
export function hashJson(value: unknown): string {
  return sha256(stableStringify(value));
}

export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}

/** A document's stable id: the hash of its canonical URL or path (see lib/crawl/canonical-url.ts). */
export function docIdFor(canonicalLocation: string): string {
  return sha256(canonicalLocation).slice(0, 32);
}

/** A vector point id: UUIDv5 of docId + chunk index, so loading the same chunk again upserts in place. */
export function pointIdFor(docId: string, chunkIndex: number): string {
  return uuidv5(`${docId}:${chunkIndex}`, POINT_NAMESPACE);
}
