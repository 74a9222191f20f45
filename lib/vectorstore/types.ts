/**
 * The VectorStore interface: one method per verb, implemented by the embedded LanceDB store (default, no server) and
 * by Qdrant (production). Both pass the same contract test suite (tests/contract/vectorstore.contract.ts).
 */

/** The payload stored with every chunk point; these fields are filterable. */
export interface ChunkPayload {
  docId: string;
  chunkIndex: number;
  parentId: string;
  sourceId: string;
  sourceType: 'web' | 'git' | 'folder' | 's3';
  location: string;
  url?: string;
  path?: string;
  title?: string;
  author?: string;
  /** ISO 8601 date-time, when known. */
  publishedAt?: string;
  /** publishedAt as epoch milliseconds, for range filters. */
  publishedTs?: number;
  language?: string;
  tags: string[];
  headingPath: string;
  chunkHash: string;
  contentHash: string;
  /** The embedding model that produced the vector (cache and rebuild detection). */
  model: string;
}

/** Fields a filter may use (indexed in both stores). */
export const FILTER_FIELDS = ['docId', 'sourceId', 'sourceType', 'author', 'tags', 'publishedTs', 'language', 'url', 'parentId'] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];

export type Condition =
  | { field: FilterField; eq: string | number | boolean }
  | { field: FilterField; in: Array<string | number> }
  | { field: FilterField; range: { gte?: number; lte?: number } };

/** All conditions must hold (AND). `tags` with eq/in matches when the tag list contains the value(s). */
export interface Filter {
  must: Condition[];
}

export interface Point {
  id: string;
  vector: number[];
  text: string;
  payload: ChunkPayload;
}

export interface Hit {
  id: string;
  /** Higher is better. Cosine similarity for vector search; store-specific for keyword; fused score for hybrid. */
  score: number;
  text: string;
  payload: ChunkPayload;
}

export interface CollectionSpec {
  dimension: number;
  distance: 'cosine';
}

export interface CollectionInfo extends CollectionSpec {
  name: string;
  count: number;
}

export interface SearchRequest {
  vector: number[];
  limit: number;
  filter?: Filter;
  /**
   * Exact nearest neighbours: bypass the approximate (ANN) index and compare with every vector. For measuring the
   * index's recall and for small, critical queries; slower on big collections.
   */
  exact?: boolean;
}

export interface KeywordRequest {
  query: string;
  limit: number;
  filter?: Filter;
}

export interface HybridRequest {
  vector: number[];
  query: string;
  limit: number;
  filter?: Filter;
  /** 'rrf' (default): reciprocal rank fusion; or a number alpha in [0,1]: alpha·vector + (1-alpha)·keyword, min-max normalised. */
  fusion?: 'rrf' | { alpha: number };
  /** Candidates taken from each side before fusion (default 4 × limit). */
  candidates?: number;
}

/** Parent sections for small-to-big retrieval (stored beside the chunks, without vectors). */
export interface ParentRecord {
  parentId: string;
  docId: string;
  text: string;
  headingPath: string;
}

export interface VectorStore {
  readonly kind: 'lancedb' | 'qdrant';
  /** Creates the collection (and its payload/full-text indexes) if missing; throws if it exists with another dimension. */
  ensureCollection(name: string, spec: CollectionSpec): Promise<void>;
  describe(name: string): Promise<CollectionInfo | undefined>;
  listCollections(): Promise<string[]>;
  dropCollection(name: string): Promise<void>;
  /** Inserts or replaces points by id. Returns once the write is durable and visible to search. */
  upsert(name: string, points: Point[]): Promise<void>;
  deleteByIds(name: string, ids: string[]): Promise<void>;
  /** Deletes every point matching the filter (e.g. all chunks of removed documents). */
  deleteWhere(name: string, filter: Filter): Promise<void>;
  count(name: string, filter?: Filter): Promise<number>;
  /** Points by id (vectors included when asked), in no particular order; missing ids are left out. */
  retrieve(name: string, ids: string[], opts?: { withVector?: boolean }): Promise<Array<Point | Omit<Point, 'vector'>>>;
  /** Iterates every point's id and payload matching the filter (no vectors), in pages. */
  scroll(name: string, filter?: Filter): AsyncIterable<{ id: string; payload: ChunkPayload }>;
  search(name: string, req: SearchRequest): Promise<Hit[]>;
  keywordSearch(name: string, req: KeywordRequest): Promise<Hit[]>;
  hybridSearch(name: string, req: HybridRequest): Promise<Hit[]>;
  upsertParents(name: string, parents: ParentRecord[]): Promise<void>;
  getParents(name: string, parentIds: string[]): Promise<ParentRecord[]>;
  deleteParentsOfDocs(name: string, docIds: string[]): Promise<void>;
  /** Points alias → collection atomically (blue/green switch-over after a full rebuild). */
  setAlias(alias: string, collection: string): Promise<void>;
  /** The collection an alias points to, or undefined. Methods taking a collection name also accept an alias. */
  resolveAlias(alias: string): Promise<string | undefined>;
  close(): Promise<void>;
}
