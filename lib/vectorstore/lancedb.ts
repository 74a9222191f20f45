/**
 * The embedded vector store: LanceDB on a local folder, one table per collection. No server to run; the same
 * VectorStore contract as Qdrant (tests/contract/vectorstore.contract.ts). See docs/vector-store.md.
 *
 * - Payload fields are real Arrow columns, so filters push down into the scan (and into scalar indexes once a table
 *   is big enough to earn them); `tags` is List<Utf8>; unknown payload keys ride along as JSON in `extra`.
 * - Full-text search: an FTS (BM25) index on `text`. LanceDB 0.39 searches rows written after the last index update
 *   with a flat scan (unless a query asks for `fastSearch`), so results are complete right after every write;
 *   `optimize()` folds new rows into the indexes and keeps that scan short. A write triggers it as soon as the table
 *   holds `optimizeUnindexedRows` rows the FTS index has not seen (1,000 by default: a BM25 scan of 10,000 unindexed
 *   rows took ~600 ms per query, an indexed query ~7 ms; an optimisation ~1 s), or every `optimizeEveryWrites` writes.
 * - Vector search: exact (a scan of every vector) on small tables; from `vectorIndexMinRows` rows on, an IVF_FLAT
 *   index (k-means partitions of the full-precision vectors; `nprobes` of them are scanned per query). Why IVF_FLAT:
 *   on 100k MiniLM-like vectors it built in 2 s and needs no refine step, where IVF_PQ needed 250 s of training and a
 *   refine step for the same recall and HNSW_SQ stayed at recall@10 0.84 (docs/vector-store.md). The index is rebuilt
 *   with more partitions when the table has doubled; rows added since the last optimisation are scanned exactly, so
 *   results stay complete.
 * - Upserts are `mergeInsert('id')`. The id column carries Lance's unenforced-primary-key marker, which makes
 *   concurrent merge-inserts of the same ids conflict and retry instead of both inserting (without it, two processes
 *   upserting the same ids at once left duplicate rows). In one process, writes to a table also queue on a mutex, so
 *   many activities writing at once do not spend their commits on conflict retries.
 */
import path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { DataType, Field, FixedSizeList, Float32, Float64, Int32, List, Schema, Utf8 } from 'apache-arrow';
import { filterMatchesNothing, sqlIn, toLanceSql, validateFilter } from './filter';
import { fuseHybrid } from './fusion';
import { aliasFilesFor, type AliasFiles, isRemoteUri } from './lancedb-aliases';
import { KeyedMutex } from './mutex';
import { isParentsCollection, parentsCollectionOf, validateName } from './names';
import { CHUNK_PAYLOAD_KEYS, prepareParents, preparePoints, validateVector } from './payload';
import type {
  ChunkPayload,
  CollectionInfo,
  CollectionSpec,
  Filter,
  Hit,
  HybridRequest,
  KeywordRequest,
  ParentRecord,
  Point,
  SearchRequest,
  VectorStore,
} from './types';

export interface LanceDBStoreOptions {
  /** Folder of the database, or an s3://bucket/prefix URL shared by several workers (config LANCEDB_URI). */
  uri: string;
  /** Object-store settings for a URL uri (aws_endpoint, aws_access_key_id, allow_http, ...): see storageOptionsFor. */
  storageOptions?: Record<string, string>;
  /** Optimise a table (compact, fold new rows into indexes) after this many writes in this process (default 50). */
  optimizeEveryWrites?: number;
  /** ... or as soon as a write leaves this many rows outside the full-text index (default 1,000). */
  optimizeUnindexedRows?: number;
  /** Build scalar indexes on filter fields when a table reaches this many rows (default 20,000). */
  scalarIndexMinRows?: number;
  /** Build an approximate (IVF) vector index when a table reaches this many rows (default 20,000). */
  vectorIndexMinRows?: number;
  /** Rows per IVF partition when the vector index is built (default 2,000). */
  vectorIndexPartitionRows?: number;
  /** IVF partitions scanned per vector query (config LANCEDB_NPROBES, default 20): more is slower and more exact. */
  nprobes?: number;
}

/** Marks `id` as the primary key, so concurrent merge-inserts on the same ids conflict instead of duplicating. */
const PRIMARY_KEY = new Map([['lance-schema:unenforced-primary-key', 'true']]);
const REQUIRED_STRINGS = ['docId', 'parentId', 'sourceId', 'sourceType', 'location', 'headingPath', 'chunkHash', 'contentHash', 'model'] as const;
const OPTIONAL_STRINGS = ['url', 'path', 'title', 'author', 'publishedAt', 'language'] as const;
const PAYLOAD_COLUMNS = [...REQUIRED_STRINGS, ...OPTIONAL_STRINGS, 'chunkIndex', 'publishedTs', 'tags', 'extra'];
const HIT_COLUMNS = ['id', 'text', ...PAYLOAD_COLUMNS];
const ID_CHUNK = 500;
/** Name of the FTS index LanceDB gives `text` (`<column>_idx`). */
const FTS_INDEX = 'text_idx';
/** The vector index is named for its partition count, so a grown table knows when to rebuild it. */
const VECTOR_INDEX = /^vector_ivf_p(\d+)$/;
const WRITE_CHUNK = 5_000;
/** Scalar indexes worth their upkeep on big tables: BTREE for high-cardinality fields, BITMAP for few values. */
const SCALAR_INDEXES: Array<[string, () => lancedb.Index]> = [
  ['id', () => lancedb.Index.btree()],
  ['docId', () => lancedb.Index.btree()],
  ['parentId', () => lancedb.Index.btree()],
  ['sourceId', () => lancedb.Index.btree()],
  ['url', () => lancedb.Index.btree()],
  ['publishedTs', () => lancedb.Index.btree()],
  ['author', () => lancedb.Index.btree()],
  ['sourceType', () => lancedb.Index.bitmap()],
  ['language', () => lancedb.Index.bitmap()],
  ['tags', () => lancedb.Index.labelList()],
];

function chunkSchema(dimension: number): Schema {
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

const PARENTS_SCHEMA = new Schema([
  new Field('parentId', new Utf8(), false, PRIMARY_KEY),
  new Field('docId', new Utf8(), false),
  new Field('text', new Utf8(), false),
  new Field('headingPath', new Utf8(), false),
]);

function pointToRow(p: Point): Record<string, unknown> {
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
function toArray<T>(value: unknown): T[] {
  if (Array.isArray(value)) return value as T[];
  if (value && typeof (value as { toArray?: unknown }).toArray === 'function') return Array.from((value as { toArray(): Iterable<T> }).toArray());
  return [];
}

function rowToPayload(row: Record<string, unknown>): ChunkPayload {
  const payload: Record<string, unknown> = {};
  for (const k of REQUIRED_STRINGS) payload[k] = row[k];
  payload.chunkIndex = row.chunkIndex;
  for (const k of OPTIONAL_STRINGS) if (row[k] !== null && row[k] !== undefined) payload[k] = row[k];
  if (row.publishedTs !== null && row.publishedTs !== undefined) payload.publishedTs = row.publishedTs;
  payload.tags = toArray<string>(row.tags);
  if (typeof row.extra === 'string') Object.assign(payload, JSON.parse(row.extra));
  return payload as unknown as ChunkPayload;
}

function rowToHit(row: Record<string, unknown>, score: number): Hit {
  return { id: row.id as string, score, text: row.text as string, payload: rowToPayload(row) };
}

function isNotFound(err: unknown): boolean {
  return /not found|does not exist|no such/i.test(String((err as Error)?.message ?? err));
}

/** Writes to one table are serialised per process (all LanceDBStore instances share it). */
const writeLocks = new KeyedMutex();

export class LanceDBStore implements VectorStore {
  readonly kind = 'lancedb' as const;
  private readonly uri: string;
  private readonly opts: Required<Omit<LanceDBStoreOptions, 'uri' | 'storageOptions'>>;
  private readonly storageOptions: Record<string, string>;
  private readonly aliasFiles: AliasFiles;
  private connection?: Promise<lancedb.Connection>;
  private readonly tables = new Map<string, Promise<lancedb.Table>>();
  /** Writes per table in this process since its last optimisation. */
  private readonly writesSinceOptimize = new Map<string, number>();

  constructor(options: LanceDBStoreOptions) {
    this.uri = isRemoteUri(options.uri) ? options.uri.replace(/\/+$/, '') : path.resolve(options.uri);
    this.storageOptions = options.storageOptions ?? {};
    this.aliasFiles = aliasFilesFor(this.uri, this.storageOptions);
    this.opts = {
      optimizeEveryWrites: options.optimizeEveryWrites ?? 50,
      optimizeUnindexedRows: options.optimizeUnindexedRows ?? 1_000,
      scalarIndexMinRows: options.scalarIndexMinRows ?? 20_000,
      vectorIndexMinRows: options.vectorIndexMinRows ?? 20_000,
      vectorIndexPartitionRows: options.vectorIndexPartitionRows ?? 2_000,
      nprobes: options.nprobes ?? 20,
    };
    for (const [key, value] of Object.entries(this.opts)) {
      if (!Number.isInteger(value) || value <= 0) throw new Error(`LanceDBStore option ${key} must be a positive integer, got ${value}`);
    }
  }

  // ---- plumbing ---------------------------------------------------------------------------------------------

  private db(): Promise<lancedb.Connection> {
    // readConsistencyInterval 0: every read sees the latest commit, also one made by another process (local disk
    // makes the check cheap; on S3 it is one small request), so "upsert returned" means "visible to search" across
    // workers. On S3, Lance commits a version with a conditional PUT (If-None-Match), so of two writers committing
    // the same version one gets a conflict and retries on top of the other's: see docs/vector-store.md.
    this.connection ??= lancedb.connect(this.uri, { readConsistencyInterval: 0, storageOptions: this.storageOptions });
    return this.connection;
  }

  private lock<T>(table: string, fn: () => Promise<T>): Promise<T> {
    return writeLocks.run(`${this.uri}\0${table}`, fn);
  }

  /** The table, or undefined when it does not exist. Handles are cached per process. */
  private async tryOpen(table: string): Promise<lancedb.Table | undefined> {
    let handle = this.tables.get(table);
    if (!handle) {
      handle = this.db().then((db) => db.openTable(table));
      this.tables.set(table, handle);
    }
    try {
      return await handle;
    } catch (err) {
      this.tables.delete(table);
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async open(name: string): Promise<{ table: lancedb.Table; collection: string }> {
    const collection = await this.resolve(name);
    const table = await this.tryOpen(collection);
    if (!table) throw new Error(`Collection "${name}" does not exist in LanceDB at ${this.uri}; call ensureCollection first`);
    return { table, collection };
  }

  private async dimensionOf(table: lancedb.Table): Promise<number> {
    const field = (await table.schema()).fields.find((f) => f.name === 'vector');
    // Checked by type id, not instanceof: LanceDB may hand back types from its own copy of apache-arrow.
    if (!field || !DataType.isFixedSizeList(field.type)) throw new Error(`Table "${table.name}" has no fixed-size vector column`);
    return (field.type as FixedSizeList).listSize;
  }

  /** Collection name behind an alias, or the name itself. */
  private async resolve(name: string): Promise<string> {
    return (await this.resolveAlias(name)) ?? name;
  }

  // ---- collections ------------------------------------------------------------------------------------------

  async ensureCollection(name: string, spec: CollectionSpec): Promise<void> {
    validateName('collection', name);
    if (!Number.isInteger(spec.dimension) || spec.dimension <= 0) throw new Error(`Invalid dimension ${spec.dimension} for "${name}": expected a positive integer`);
    if (spec.distance !== 'cosine') throw new Error(`Unsupported distance "${String(spec.distance)}" for "${name}": only cosine`);
    const collection = await this.resolve(name);
    await this.lock(collection, async () => {
      let table = await this.tryOpen(collection);
      if (table) {
        const dimension = await this.dimensionOf(table);
        if (dimension !== spec.dimension) {
          throw new Error(`Collection "${collection}" exists with dimension ${dimension}, not ${spec.dimension}; use another collection name (or drop it and rebuild)`);
        }
      } else {
        const db = await this.db();
        // existOk: another process may create it at the same moment; then we get theirs and check it below.
        table = await db.createEmptyTable(collection, chunkSchema(spec.dimension), { existOk: true });
        this.tables.set(collection, Promise.resolve(table));
        const dimension = await this.dimensionOf(table);
        if (dimension !== spec.dimension) throw new Error(`Collection "${collection}" exists with dimension ${dimension}, not ${spec.dimension}`);
      }
      // Also repairs a table whose creator stopped before indexing it.
      const hasFts = async () => (await table.listIndices()).some((i) => i.columns.includes('text') && i.indexType === 'FTS');
      if (!(await hasFts())) {
        try {
          await table.createIndex('text', { config: lancedb.Index.fts(), replace: false });
        } catch (err) {
          if (!(await hasFts())) throw err; // else another process indexed it first
        }
      }
    });
  }

  async describe(name: string): Promise<CollectionInfo | undefined> {
    const collection = await this.resolve(name);
    const table = await this.tryOpen(collection);
    if (!table) return undefined;
    return { name: collection, dimension: await this.dimensionOf(table), distance: 'cosine', count: await table.countRows() };
  }

  async listCollections(): Promise<string[]> {
    const db = await this.db();
    const names: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await db.listTables({ pageToken, limit: 1000 });
      names.push(...page.tables);
      pageToken = page.pageToken;
    } while (pageToken);
    return names.filter((n) => !isParentsCollection(n)).sort();
  }

  async dropCollection(name: string): Promise<void> {
    validateName('collection', name);
    const db = await this.db();
    for (const table of [name, parentsCollectionOf(name)]) {
      await this.lock(table, async () => {
        this.tables.delete(table);
        this.writesSinceOptimize.delete(table);
        try {
          await db.dropTable(table);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      });
    }
    // An alias to a dropped collection would dangle; Qdrant removes such aliases too.
    for (const [alias, target] of await this.aliases()) if (target === name) await this.aliasFiles.remove(alias);
  }

  // ---- writes -----------------------------------------------------------------------------------------------

  async upsert(name: string, points: Point[]): Promise<void> {
    if (points.length === 0) return;
    const { table, collection } = await this.open(name);
    const rows = preparePoints(points, await this.dimensionOf(table), collection).map(pointToRow);
    await this.lock(collection, async () => {
      for (let i = 0; i < rows.length; i += WRITE_CHUNK) {
        await table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows.slice(i, i + WRITE_CHUNK));
      }
      await this.afterWrite(collection, table, rows.length);
    });
  }

  async deleteByIds(name: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const { table, collection } = await this.open(name);
    await this.lock(collection, async () => {
      for (let i = 0; i < ids.length; i += ID_CHUNK) await table.delete(sqlIn('id', ids.slice(i, i + ID_CHUNK)));
      await this.afterWrite(collection, table, 0);
    });
  }

  async deleteWhere(name: string, filter: Filter): Promise<void> {
    validateFilter(filter);
    if (!filter || filter.must.length === 0) throw new Error(`deleteWhere on "${name}" needs at least one condition (use dropCollection to delete everything)`);
    if (filterMatchesNothing(filter)) return;
    const { table, collection } = await this.open(name);
    const predicate = toLanceSql(filter) as string;
    await this.lock(collection, async () => {
      await table.delete(predicate);
      await this.afterWrite(collection, table, 0);
    });
  }

  /**
   * Optimises when the full-text index lags by `optimizeUnindexedRows` rows (checked from the index's own statistics,
   * so rows written by other processes count too) or after `optimizeEveryWrites` writes here. A failed optimisation
   * is only a warning: the write itself is done, and the next one tries again.
   */
  private async afterWrite(collection: string, table: lancedb.Table, rows: number): Promise<void> {
    const writes = (this.writesSinceOptimize.get(collection) ?? 0) + 1;
    this.writesSinceOptimize.set(collection, writes);
    try {
      const lagging = rows > 0 && ((await table.indexStats(FTS_INDEX))?.numUnindexedRows ?? 0) >= this.opts.optimizeUnindexedRows;
      if (!lagging && writes < this.opts.optimizeEveryWrites) return;
      this.writesSinceOptimize.delete(collection);
      await this.optimizeTable(table);
    } catch (err) {
      console.warn(`LanceDB: optimising "${collection}" failed (will retry after later writes): ${(err as Error).message}`);
    }
  }

  private async optimizeTable(table: lancedb.Table): Promise<void> {
    // Old versions are kept an hour: enough for a read in flight in another process, without growing for a week.
    await table.optimize({ cleanupOlderThan: new Date(Date.now() - 3_600_000) });
    const rows = await table.countRows();
    const indices = await table.listIndices();
    const columns = new Set((await table.schema()).fields.map((f) => f.name));
    if (rows >= this.opts.scalarIndexMinRows) {
      const indexed = new Set(indices.flatMap((i) => i.columns));
      for (const [column, index] of SCALAR_INDEXES) {
        if (columns.has(column) && !indexed.has(column)) await table.createIndex(column, { config: index() });
      }
    }
    if (columns.has('vector') && rows >= this.opts.vectorIndexMinRows) await this.ensureVectorIndex(table, rows, indices);
  }

  /**
   * An IVF_FLAT index of `vectorIndexPartitionRows` rows per partition, built when missing and rebuilt when the table
   * has doubled since (twice the partitions): optimize() adds new rows to the existing partitions without retraining
   * them, so the partitions of a much grown table get too big to probe quickly. Partitions of ~2,000 rows: on 100k
   * MiniLM-like vectors, sqrt(rows) = 283 partitions with 20 probes had recall@10 0.73 once rebuilt from scratch, 50
   * partitions 0.94 at 21 ms (bench/search-bench.ts reports the recall of every run).
   */
  private async ensureVectorIndex(table: lancedb.Table, rows: number, indices: lancedb.IndexConfig[]): Promise<void> {
    const partitions = Math.max(1, Math.round(rows / this.opts.vectorIndexPartitionRows));
    const current = indices.find((i) => i.columns.includes('vector'));
    const built = Number(VECTOR_INDEX.exec(current?.name ?? '')?.[1] ?? 0);
    if (current && built > 0 && partitions < 2 * built) return;
    const name = `vector_ivf_p${partitions}`;
    await table.createIndex('vector', { config: lancedb.Index.ivfFlat({ distanceType: 'cosine', numPartitions: partitions }), name, replace: true });
    // Searches keep an index throughout: the old one goes only once the new one is committed.
    if (current && current.name !== name) await table.dropIndex(current.name);
  }

  /**
   * Compacts the table, folds unindexed rows into its indexes (full-text included) and builds scalar indexes once
   * it is big enough. Writes do this every so often; call it after a bulk load for the fastest searches.
   */
  async optimize(name: string): Promise<void> {
    const { table, collection } = await this.open(name);
    await this.lock(collection, () => this.optimizeTable(table));
    this.writesSinceOptimize.delete(collection);
  }

  // ---- reads ------------------------------------------------------------------------------------------------

  async count(name: string, filter?: Filter): Promise<number> {
    const predicate = toLanceSql(filter);
    if (filterMatchesNothing(filter)) return 0;
    const { table } = await this.open(name);
    return table.countRows(predicate);
  }

  async retrieve(name: string, ids: string[], opts: { withVector?: boolean } = {}): Promise<Array<Point | Omit<Point, 'vector'>>> {
    if (ids.length === 0) return [];
    const { table } = await this.open(name);
    const columns = opts.withVector ? [...HIT_COLUMNS, 'vector'] : HIT_COLUMNS;
    const out: Array<Point | Omit<Point, 'vector'>> = [];
    for (let i = 0; i < ids.length; i += ID_CHUNK) {
      const rows = await table.query().where(sqlIn('id', ids.slice(i, i + ID_CHUNK))).select(columns).toArray();
      for (const row of rows) {
        const point = { id: row.id as string, text: row.text as string, payload: rowToPayload(row) };
        out.push(opts.withVector ? { ...point, vector: toArray<number>(row.vector) } : point);
      }
    }
    return out;
  }

  /** Streams the matching rows batch by batch from one table version (a consistent snapshot). */
  async *scroll(name: string, filter?: Filter): AsyncIterable<{ id: string; payload: ChunkPayload }> {
    const predicate = toLanceSql(filter);
    if (filterMatchesNothing(filter)) return;
    const { table } = await this.open(name);
    let query = table.query().select(['id', ...PAYLOAD_COLUMNS]);
    if (predicate) query = query.where(predicate);
    for await (const batch of query) {
      for (const row of batch.toArray()) {
        const r = row.toJSON() as Record<string, unknown>;
        yield { id: r.id as string, payload: rowToPayload(r) };
      }
    }
  }

  async search(name: string, req: SearchRequest): Promise<Hit[]> {
    const predicate = toLanceSql(req.filter);
    checkLimit(req.limit);
    if (filterMatchesNothing(req.filter)) return [];
    const { table, collection } = await this.open(name);
    validateVector(req.vector, await this.dimensionOf(table), `Search in "${collection}"`);
    let query = table.query().nearestTo(req.vector).distanceType('cosine').select([...HIT_COLUMNS, '_distance']).limit(req.limit);
    // Without an index, LanceDB scans every vector whatever the options; with one, nprobes partitions are scanned.
    query = req.exact ? query.bypassVectorIndex() : query.nprobes(this.opts.nprobes);
    if (predicate) query = query.where(predicate);
    const rows = await query.toArray();
    // Cosine distance is 1 - cosine similarity.
    return rows.map((row) => rowToHit(row, 1 - (row._distance as number)));
  }

  async keywordSearch(name: string, req: KeywordRequest): Promise<Hit[]> {
    const predicate = toLanceSql(req.filter);
    checkLimit(req.limit);
    if (filterMatchesNothing(req.filter) || req.query.trim() === '') return [];
    const { table } = await this.open(name);
    let query = table.query().fullTextSearch(req.query, { columns: 'text' }).select([...HIT_COLUMNS, '_score']).limit(req.limit);
    if (predicate) query = query.where(predicate);
    const rows = await query.toArray();
    return rows.map((row) => rowToHit(row, row._score as number));
  }

  async hybridSearch(name: string, req: HybridRequest): Promise<Hit[]> {
    validateFilter(req.filter);
    checkLimit(req.limit);
    const fusion = req.fusion ?? 'rrf';
    if (fusion !== 'rrf' && !(fusion.alpha >= 0 && fusion.alpha <= 1)) throw new Error(`Invalid fusion alpha ${fusion.alpha}: expected a number in [0, 1]`);
    const candidates = req.candidates ?? 4 * req.limit;
    checkLimit(candidates, 'candidates');
    if (filterMatchesNothing(req.filter)) return [];
    // Both fusions run the two searches here and fuse with the shared helpers. LanceDB's own hybrid query
    // (fullTextSearch + nearestTo + RRFReranker) fuses the same way (its ranks count from 0, so its k = 61 equals
    // our k = 60; the LanceDB test checks they agree), but in 0.39 it logs a deprecation warning on every call and
    // takes no per-side candidate count.
    const [vectorHits, keywordHits] = await Promise.all([
      this.search(name, { vector: req.vector, limit: candidates, filter: req.filter }),
      this.keywordSearch(name, { query: req.query, limit: candidates, filter: req.filter }),
    ]);
    return fuseHybrid(vectorHits, keywordHits, fusion, req.limit);
  }

  // ---- parents ----------------------------------------------------------------------------------------------

  async upsertParents(name: string, parents: ParentRecord[]): Promise<void> {
    if (parents.length === 0) return;
    const collection = await this.resolve(name);
    const tableName = parentsCollectionOf(collection);
    const rows = prepareParents(parents, collection);
    await this.lock(tableName, async () => {
      let table = await this.tryOpen(tableName);
      if (!table) {
        const db = await this.db();
        table = await db.createEmptyTable(tableName, PARENTS_SCHEMA, { existOk: true });
        this.tables.set(tableName, Promise.resolve(table));
      }
      for (let i = 0; i < rows.length; i += WRITE_CHUNK) {
        await table.mergeInsert('parentId').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows.slice(i, i + WRITE_CHUNK) as unknown as Record<string, unknown>[]);
      }
      await this.afterWrite(tableName, table, rows.length);
    });
  }

  async getParents(name: string, parentIds: string[]): Promise<ParentRecord[]> {
    if (parentIds.length === 0) return [];
    const table = await this.tryOpen(parentsCollectionOf(await this.resolve(name)));
    if (!table) return [];
    const out: ParentRecord[] = [];
    for (let i = 0; i < parentIds.length; i += ID_CHUNK) {
      const rows = await table.query().where(sqlIn('parentId', parentIds.slice(i, i + ID_CHUNK))).toArray();
      for (const r of rows) out.push({ parentId: r.parentId, docId: r.docId, text: r.text, headingPath: r.headingPath });
    }
    return out;
  }

  async deleteParentsOfDocs(name: string, docIds: string[]): Promise<void> {
    if (docIds.length === 0) return;
    const tableName = parentsCollectionOf(await this.resolve(name));
    const table = await this.tryOpen(tableName);
    if (!table) return;
    await this.lock(tableName, async () => {
      for (let i = 0; i < docIds.length; i += ID_CHUNK) await table.delete(sqlIn('docId', docIds.slice(i, i + ID_CHUNK)));
      await this.afterWrite(tableName, table, 0);
    });
  }

  // ---- aliases: one small JSON document per alias beside the tables, replaced atomically (lancedb-aliases.ts) ----

  private async aliases(): Promise<Array<[string, string]>> {
    const out: Array<[string, string]> = [];
    for (const alias of await this.aliasFiles.names()) {
      const target = await this.resolveAlias(alias);
      if (target) out.push([alias, target]);
    }
    return out;
  }

  async setAlias(alias: string, collection: string): Promise<void> {
    validateName('alias', alias);
    validateName('collection', collection);
    if (!(await this.tryOpen(collection))) throw new Error(`Cannot point alias "${alias}" at "${collection}": no such collection`);
    if ((await this.resolveAlias(collection)) !== undefined) throw new Error(`Cannot point alias "${alias}" at "${collection}": that is an alias, not a collection`);
    if (await this.tryOpen(alias)) throw new Error(`Cannot create alias "${alias}": a collection has that name`);
    await this.aliasFiles.write(alias, JSON.stringify({ collection })); // readers see the old target or the new, never half
  }

  async resolveAlias(alias: string): Promise<string | undefined> {
    if (typeof alias !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(alias)) return undefined;
    const text = await this.aliasFiles.read(alias);
    if (text === undefined) return undefined;
    const parsed = JSON.parse(text) as { collection?: unknown };
    return typeof parsed.collection === 'string' ? parsed.collection : undefined;
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    this.tables.clear();
    this.aliasFiles.close();
    if (connection) (await connection).close();
  }
}

function checkLimit(limit: number, what = 'limit'): void {
  if (!Number.isInteger(limit) || limit <= 0) throw new Error(`Invalid ${what} ${limit}: expected a positive integer`);
}
