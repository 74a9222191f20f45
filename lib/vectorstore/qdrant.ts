/**
 * The Qdrant store (production, or any deployment that runs a Qdrant server; 1.10 or later for the Query API).
 * Same VectorStore contract as LanceDB (tests/contract/vectorstore.contract.ts, run where QDRANT_URL is set).
 *
 * - Each collection has a named dense vector `dense` (cosine) and a sparse vector `bm25` with Qdrant's `idf`
 *   modifier. Keyword search is a sparse BM25 query (see bm25.ts): ranked like LanceDB's FTS, where a full-text match
 *   filter would only say yes or no. Hybrid search runs the dense and the sparse query and fuses them with
 *   hybrid.ts (the same fusion as LanceDB's hybrid search).
 * - Payload indexes on every FILTER_FIELDS entry (keyword; float for publishedTs), created with the collection.
 * - Qdrant point ids must be UUIDs or integers: a UUID id is used as is, any other string maps to UUIDv5 of itself;
 *   the caller's id travels in the payload (`_id`) and is what reads return.
 * - Parents live in `<name>__parents`, a collection with a 1-dimensional placeholder vector.
 * - Aliases are Qdrant's own, switched atomically in one request.
 */
import { QdrantClient } from '@qdrant/js-client-rest';
import { v5 as uuidv5, validate as isUuid } from 'uuid';
import { documentSparseVector, querySparseVector } from './bm25';
import { checkCollectionSpec, checkLimit } from './checks';
import { filterMatchesNothing, validateFilter } from './filter';
import { hybridSearch } from './hybrid';
import { parentsCollectionOf, validateName } from './names';
import { prepareParents, preparePoints, validateVector } from './payload';
import {
  type ChunkPayload,
  type CollectionInfo,
  type CollectionSpec,
  type Condition,
  FILTER_FIELDS,
  type Filter,
  type Hit,
  type HybridRequest,
  type KeywordRequest,
  type ParentRecord,
  type Point,
  type SearchRequest,
  type VectorStore,
} from './types';

export interface QdrantStoreOptions {
  url: string;
  apiKey?: string;
  /** Points per upsert request (default 256). */
  upsertBatch?: number;
  /** Points per scroll page (default 256). */
  scrollPageSize?: number;
}

const DENSE = 'dense';
const SPARSE = 'bm25';
/** Namespace for mapping non-UUID ids to UUIDv5 (fixed, arbitrary). */
const ID_NAMESPACE = 'b3a0f5a4-8f5e-4c43-9a8e-6b9f1d2c7e10';

type QdrantFilter = { must: Array<Record<string, unknown>> };
type QdrantPoint = { id: string | number; payload?: Record<string, unknown> | null; vector?: unknown; score?: number };

function toQdrantId(id: string): string {
  return isUuid(id) ? id.toLowerCase() : uuidv5(id, ID_NAMESPACE);
}

function toQdrantFilter(filter: Filter | undefined): QdrantFilter | undefined {
  validateFilter(filter);
  if (!filter || filter.must.length === 0) return undefined;
  return { must: filter.must.map(conditionToQdrant) };
}

function conditionToQdrant(c: Condition): Record<string, unknown> {
  // Numbers (publishedTs) have a float index, which answers ranges but not `match`: equality is a closed range.
  const point = (v: string | number | boolean) => ({ key: c.field, range: { gte: v, lte: v } });
  if ('eq' in c) return typeof c.eq === 'number' ? point(c.eq) : { key: c.field, match: { value: c.eq } };
  if ('in' in c) {
    // A nested filter is a condition too: "any of these numbers" is a `should` of closed ranges.
    if (c.in.some((v) => typeof v === 'number')) return { should: c.in.map(point) };
    // A keyword match on an array payload (tags) matches when any element equals a value: "contains".
    return { key: c.field, match: { any: c.in } };
  }
  return { key: c.field, range: { gte: c.range.gte, lte: c.range.lte } };
}

function splitPayload(raw: Record<string, unknown> | null | undefined): { id: string; text: string; payload: ChunkPayload } {
  const { _id, text, ...payload } = raw ?? {};
  return { id: String(_id), text: String(text ?? ''), payload: payload as unknown as ChunkPayload };
}

function toHit(p: QdrantPoint, score = p.score ?? 0): Hit {
  const { id, text, payload } = splitPayload(p.payload);
  return { id, score, text, payload };
}

function isStatus(err: unknown, status: number): boolean {
  return (err as { status?: number })?.status === status;
}

export class QdrantStore implements VectorStore {
  readonly kind = 'qdrant' as const;
  private readonly client: QdrantClient;
  private readonly upsertBatch: number;
  private readonly scrollPageSize: number;

  constructor(options: QdrantStoreOptions) {
    // No version check at construction: it would be a request (and a warning) before anyone asked for anything.
    this.client = new QdrantClient({ url: options.url, apiKey: options.apiKey, checkCompatibility: false });
    this.upsertBatch = options.upsertBatch ?? 256;
    this.scrollPageSize = options.scrollPageSize ?? 256;
  }

  private async resolve(name: string): Promise<string> {
    return (await this.resolveAlias(name)) ?? name;
  }

  private async exists(collection: string): Promise<boolean> {
    return (await this.client.collectionExists(collection)).exists;
  }

  private async dimensionOf(collection: string): Promise<number | undefined> {
    const info = await this.client.getCollection(collection);
    const vectors = info.config.params.vectors as Record<string, { size?: number }> | { size?: number } | undefined;
    const dense = vectors && DENSE in vectors ? (vectors as Record<string, { size?: number }>)[DENSE] : (vectors as { size?: number } | undefined);
    return dense?.size;
  }

  async ensureCollection(name: string, spec: CollectionSpec): Promise<void> {
    checkCollectionSpec(name, spec);
    const collection = await this.resolve(name);
    if (await this.exists(collection)) {
      const dimension = await this.dimensionOf(collection);
      if (dimension !== spec.dimension) {
        throw new Error(`Collection "${collection}" exists with dimension ${dimension}, not ${spec.dimension}; use another collection name (or drop it and rebuild)`);
      }
    } else {
      await this.createIfMissing(collection, {
        vectors: { [DENSE]: { size: spec.dimension, distance: 'Cosine' } },
        sparse_vectors: { [SPARSE]: { modifier: 'idf' } },
      });
    }
    // Indexes are idempotent to create, so a collection whose creator stopped half-way gets completed here.
    for (const field of FILTER_FIELDS) {
      await this.client.createPayloadIndex(collection, { field_name: field, field_schema: field === 'publishedTs' ? 'float' : 'keyword', wait: true });
    }
    const parents = parentsCollectionOf(collection);
    if (!(await this.exists(parents))) await this.createIfMissing(parents, { vectors: { size: 1, distance: 'Dot' } });
    for (const field of ['docId', 'parentId']) {
      await this.client.createPayloadIndex(parents, { field_name: field, field_schema: 'keyword', wait: true });
    }
  }

  /** Creates a collection; losing a creation race to another worker (409) is fine. */
  private async createIfMissing(collection: string, params: Parameters<QdrantClient['createCollection']>[1]): Promise<void> {
    try {
      await this.client.createCollection(collection, params);
    } catch (err) {
      if (!(isStatus(err, 409) || (isStatus(err, 400) && (await this.exists(collection))))) throw err;
    }
  }

  async describe(name: string): Promise<CollectionInfo | undefined> {
    const collection = await this.resolve(name);
    if (!(await this.exists(collection))) return undefined;
    const dimension = (await this.dimensionOf(collection)) ?? 0;
    const { count } = await this.client.count(collection, { exact: true });
    return { name: collection, dimension, distance: 'cosine', count };
  }

  async listCollections(): Promise<string[]> {
    const { collections } = await this.client.getCollections();
    return collections
      .map((c) => c.name)
      .filter((n) => !n.endsWith('__parents'))
      .sort();
  }

  async dropCollection(name: string): Promise<void> {
    validateName('collection', name);
    for (const collection of [name, parentsCollectionOf(name)]) {
      if (await this.exists(collection)) await this.client.deleteCollection(collection);
    }
  }

  async upsert(name: string, points: Point[]): Promise<void> {
    if (points.length === 0) return;
    const collection = await this.resolve(name);
    const dimension = await this.dimensionOf(collection);
    const prepared = preparePoints(points, dimension ?? 0, collection);
    for (let i = 0; i < prepared.length; i += this.upsertBatch) {
      const batch = prepared.slice(i, i + this.upsertBatch).map((p) => {
        const sparse = documentSparseVector(p.text);
        return {
          id: toQdrantId(p.id),
          vector: sparse.indices.length > 0 ? { [DENSE]: p.vector, [SPARSE]: sparse } : { [DENSE]: p.vector },
          payload: { ...p.payload, text: p.text, _id: p.id } as Record<string, unknown>,
        };
      });
      await this.client.upsert(collection, { wait: true, points: batch });
    }
  }

  async deleteByIds(name: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.client.delete(name, { wait: true, points: ids.map(toQdrantId) });
  }

  async deleteWhere(name: string, filter: Filter): Promise<void> {
    const qf = toQdrantFilter(filter);
    if (!qf) throw new Error(`deleteWhere on "${name}" needs at least one condition (use dropCollection to delete everything)`);
    if (filterMatchesNothing(filter)) return;
    await this.client.delete(name, { wait: true, filter: qf });
  }

  async count(name: string, filter?: Filter): Promise<number> {
    const qf = toQdrantFilter(filter);
    if (filterMatchesNothing(filter)) return 0;
    return (await this.client.count(name, { filter: qf, exact: true })).count;
  }

  async retrieve(name: string, ids: string[], opts: { withVector?: boolean } = {}): Promise<Array<Point | Omit<Point, 'vector'>>> {
    if (ids.length === 0) return [];
    const records = await this.client.retrieve(name, { ids: ids.map(toQdrantId), with_payload: true, with_vector: opts.withVector ? [DENSE] : false });
    return records.map((r) => {
      const { id, text, payload } = splitPayload(r.payload);
      if (!opts.withVector) return { id, text, payload };
      const vectors = r.vector as Record<string, number[]> | number[] | null | undefined;
      const vector = Array.isArray(vectors) ? vectors : (vectors?.[DENSE] ?? []);
      return { id, text, payload, vector };
    });
  }

  async *scroll(name: string, filter?: Filter): AsyncIterable<{ id: string; payload: ChunkPayload }> {
    const qf = toQdrantFilter(filter);
    if (filterMatchesNothing(filter)) return;
    let offset: string | number | undefined;
    do {
      const page = await this.client.scroll(name, { filter: qf, limit: this.scrollPageSize, offset, with_payload: true, with_vector: false });
      for (const p of page.points) {
        const { id, payload } = splitPayload(p.payload);
        yield { id, payload };
      }
      const next = page.next_page_offset;
      offset = typeof next === 'string' || typeof next === 'number' ? next : undefined;
    } while (offset !== undefined);
  }

  async search(name: string, req: SearchRequest): Promise<Hit[]> {
    const qf = toQdrantFilter(req.filter);
    checkLimit(req.limit);
    if (filterMatchesNothing(req.filter)) return [];
    const dimension = await this.dimensionOf(await this.resolve(name));
    validateVector(req.vector, dimension ?? 0, `Search in "${name}"`);
    const { points } = await this.client.query(name, { query: req.vector, using: DENSE, filter: qf, limit: req.limit, with_payload: true, ...(req.exact && { params: { exact: true } }) });
    return points.map((p) => toHit(p));
  }

  async keywordSearch(name: string, req: KeywordRequest): Promise<Hit[]> {
    const qf = toQdrantFilter(req.filter);
    checkLimit(req.limit);
    const sparse = querySparseVector(req.query);
    if (filterMatchesNothing(req.filter) || sparse.indices.length === 0) return [];
    const { points } = await this.client.query(name, { query: sparse, using: SPARSE, filter: qf, limit: req.limit, with_payload: true });
    return points.map((p) => toHit(p));
  }

  /** The vector and the keyword half, fused client-side like LanceDB's (hybrid.ts), not with Qdrant's own fusion. */
  async hybridSearch(name: string, req: HybridRequest): Promise<Hit[]> {
    return hybridSearch(this, name, req);
  }

  async upsertParents(name: string, parents: ParentRecord[]): Promise<void> {
    if (parents.length === 0) return;
    const collection = parentsCollectionOf(await this.resolve(name));
    const rows = prepareParents(parents, collection);
    for (let i = 0; i < rows.length; i += this.upsertBatch) {
      const batch = rows.slice(i, i + this.upsertBatch).map((p) => ({ id: toQdrantId(p.parentId), vector: [1], payload: { ...p } }));
      await this.client.upsert(collection, { wait: true, points: batch });
    }
  }

  async getParents(name: string, parentIds: string[]): Promise<ParentRecord[]> {
    if (parentIds.length === 0) return [];
    const collection = parentsCollectionOf(await this.resolve(name));
    if (!(await this.exists(collection))) return [];
    const records = await this.client.retrieve(collection, { ids: parentIds.map(toQdrantId), with_payload: true, with_vector: false });
    return records.map((r) => {
      const p = (r.payload ?? {}) as Record<string, string>;
      return { parentId: String(p.parentId), docId: String(p.docId), text: String(p.text), headingPath: String(p.headingPath) };
    });
  }

  async deleteParentsOfDocs(name: string, docIds: string[]): Promise<void> {
    if (docIds.length === 0) return;
    const collection = parentsCollectionOf(await this.resolve(name));
    if (!(await this.exists(collection))) return;
    await this.client.delete(collection, { wait: true, filter: { must: [{ key: 'docId', match: { any: docIds } }] } });
  }

  async setAlias(alias: string, collection: string): Promise<void> {
    validateName('alias', alias);
    validateName('collection', collection);
    if (!(await this.exists(collection))) throw new Error(`Cannot point alias "${alias}" at "${collection}": no such collection`);
    const existing = await this.resolveAlias(alias);
    // Delete + create in one request: Qdrant applies the actions atomically, so readers never see no alias.
    const actions: Array<Record<string, unknown>> = [];
    if (existing !== undefined) actions.push({ delete_alias: { alias_name: alias } });
    actions.push({ create_alias: { alias_name: alias, collection_name: collection } });
    await this.client.updateCollectionAliases({ actions: actions as Parameters<QdrantClient['updateCollectionAliases']>[0]['actions'] });
  }

  async resolveAlias(alias: string): Promise<string | undefined> {
    const { aliases } = await this.client.getAliases();
    return aliases.find((a) => a.alias_name === alias)?.collection_name;
  }

  async close(): Promise<void> {
    // The REST client keeps no connection to close.
  }
}

/** Exposed for unit tests: the Qdrant filter a VectorStore filter becomes. */
export const qdrantFilterFor = toQdrantFilter;
