/**
 * Index identity and blue/green collections, shared by ingest and sync.
 *
 * The user-facing collection name is an alias. Vectors live in a physical collection named after the index identity
 * (embedding model + dimension + chunking settings): `<name>__<hash>`. Loads that keep the identity go into the live
 * physical collection; a changed identity builds a new one beside it, and the alias switches over only once that
 * one is complete, so search never sees a half-built index. The previous physical collection is then dropped.
 */
import { hashJson } from '../../lib/hash';
import { type ChunkingOptions, chunkingSchema } from '../../lib/schemas/ingest';
import { type IndexIdentity, isPhysicalCollectionOf, physicalCollectionName } from '../../lib/schemas/sync';
import type { Deps } from '../deps';

export interface IdentityWithHash extends IndexIdentity {
  hash: string;
}

export async function indexIdentity(deps: Deps, chunking: ChunkingOptions): Promise<IdentityWithHash> {
  const embedder = await deps.cachedEmbedder();
  const identity: IndexIdentity = { model: embedder.modelId, dimension: embedder.dimension, chunking: chunkingSchema.parse(chunking) };
  return { ...identity, hash: hashJson(identity) };
}

export interface ResolvedCollection {
  /** The user-facing name (alias). */
  alias: string;
  /** Where vectors of the current identity live. */
  physical: string;
  /** What the alias points to now (undefined: nothing yet). */
  live?: string;
  /** Whether the physical collection existed before this call (it exists after). */
  existed: boolean;
  identity: IdentityWithHash;
  /** Leftover physical collections of the alias that were dropped (see dropLeftovers). */
  discarded: string[];
}

/** Names (and creates if missing) the physical collection for `collection` under the configured embedder and `chunking`. */
export async function resolveCollection(deps: Deps, collection: string, chunking: ChunkingOptions): Promise<ResolvedCollection> {
  const store = await deps.vectorStore();
  const identity = await indexIdentity(deps, chunking);
  const physical = physicalCollectionName(collection, identity.hash);
  const live = await store.resolveAlias(collection);
  const existed = (await store.describe(physical)) !== undefined;
  await store.ensureCollection(physical, { dimension: identity.dimension, distance: 'cosine' });
  const discarded = await dropLeftovers(deps, collection, [physical, live]);
  return { alias: collection, physical, live, existed, identity, discarded };
}

/**
 * Drops the physical collections of `alias` that are neither live nor about to be loaded: what a run left behind when
 * it died between switching the alias and dropping the old collection, or halfway through a rebuild of an identity
 * that is no longer configured. Called under the collection's lock (ingest and sync both take it), so no other run
 * is filling any of them.
 */
async function dropLeftovers(deps: Deps, alias: string, keep: Array<string | undefined>): Promise<string[]> {
  const store = await deps.vectorStore();
  const dropped: string[] = [];
  for (const name of await store.listCollections()) {
    if (!isPhysicalCollectionOf(alias, name) || keep.includes(name)) continue;
    await store.dropCollection(name);
    dropped.push(name);
  }
  return dropped;
}

/**
 * Points the alias at `physical` (a no-op when it already does), then drops the physical collection it pointed to
 * before. A plain collection that has the alias's name (made before aliases were used) is replaced.
 */
export async function publishCollection(deps: Deps, alias: string, physical: string): Promise<{ switched: boolean; dropped?: string }> {
  const store = await deps.vectorStore();
  const live = await store.resolveAlias(alias);
  if (live === physical) return { switched: false };
  if (live === undefined && (await store.describe(alias)) !== undefined) {
    // A legacy plain collection under the user-facing name: the alias cannot coexist with it. Its content is what the
    // new physical collection was just built from, so it is dropped right before the alias takes its name.
    await store.dropCollection(alias);
  }
  await store.setAlias(alias, physical);
  let dropped: string | undefined;
  if (live !== undefined && live !== physical && isPhysicalCollectionOf(alias, live)) {
    await store.dropCollection(live);
    dropped = live;
  }
  return { switched: true, dropped };
}
