/**
 * The embedded vector store: LanceDB on a local folder, one table per collection. No server to run; the same
 * VectorStore contract as Qdrant (tests/contract/vectorstore.contract.ts). See docs/vector-store.md.
 *
 * This file is the store: collections, writes and reads of chunk tables. Its parts, one job each:
 * - lancedb-rows.ts: the Arrow schemas and the point ↔ row mapping (payload fields are real Arrow columns, so filters
 *   push down into the scan and into scalar indexes);
 * - lancedb-tables.ts: the connection, cached table handles and the per-table write lock;
 * - lancedb-index-upkeep.ts: the full-text (BM25), scalar and IVF_FLAT vector indexes and the optimisations that
 *   keep them current (when and why);
 * - lancedb-parents.ts: the parents table beside each collection;
 * - lancedb-aliases.ts: the alias registry, JSON documents beside the tables;
 * - hybrid.ts: hybrid search, shared with Qdrant.
 *
 * Upserts are `mergeInsert('id')`. The id column carries Lance's unenforced-primary-key marker, which makes
 * concurrent merge-inserts of the same ids conflict and retry instead of both inserting (without it, two processes
 * upserting the same ids at once left duplicate rows). In one process, writes to a table also queue on a mutex, so
 * many activities writing at once do not spend their commits on conflict retries.
 */
import path from 'node:path';
import type * as lancedb from '@lancedb/lancedb';
import { checkCollectionSpec, checkLimit } from './checks';
import { filterMatchesNothing, sqlIn, toLanceSql, validateFilter } from './filter';
import { hybridSearch } from './hybrid';
import { aliasFilesFor, isRemoteUri, LanceAliases } from './lancedb-aliases';
import { IndexUpkeep } from './lancedb-index-upkeep';
import { LanceParents } from './lancedb-parents';
import { chunkSchema, HIT_COLUMNS, PAYLOAD_COLUMNS, pointToRow, rowToHit, rowToPayload, toArray } from './lancedb-rows';
import { dimensionOf, ID_CHUNK, LanceTables, slices, WRITE_CHUNK } from './lancedb-tables';
import { isParentsCollection, parentsCollectionOf, validateName } from './names';
import { preparePoints, validateVector } from './payload';
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

export class LanceDBStore implements VectorStore {
  readonly kind = 'lancedb' as const;
  private readonly nprobes: number;
  private readonly tables: LanceTables;
  private readonly upkeep: IndexUpkeep;
  private readonly aliases: LanceAliases;
  private readonly parents: LanceParents;

  constructor(options: LanceDBStoreOptions) {
    const uri = isRemoteUri(options.uri) ? options.uri.replace(/\/+$/, '') : path.resolve(options.uri);
    const storageOptions = options.storageOptions ?? {};
    const opts = {
      optimizeEveryWrites: options.optimizeEveryWrites ?? 50,
      optimizeUnindexedRows: options.optimizeUnindexedRows ?? 1_000,
      scalarIndexMinRows: options.scalarIndexMinRows ?? 20_000,
      vectorIndexMinRows: options.vectorIndexMinRows ?? 20_000,
      vectorIndexPartitionRows: options.vectorIndexPartitionRows ?? 2_000,
      nprobes: options.nprobes ?? 20,
    };
    for (const [key, value] of Object.entries(opts)) {
      if (!Number.isInteger(value) || value <= 0) throw new Error(`LanceDBStore option ${key} must be a positive integer, got ${value}`);
    }
    this.nprobes = opts.nprobes;
    this.tables = new LanceTables(uri, storageOptions);
    this.upkeep = new IndexUpkeep(opts);
    this.aliases = new LanceAliases(aliasFilesFor(uri, storageOptions), async (name) => (await this.tables.tryOpen(name)) !== undefined);
    this.parents = new LanceParents(this.tables, this.upkeep, (name) => this.resolve(name));
  }

  /** Collection name behind an alias, or the name itself. */
  private async resolve(name: string): Promise<string> {
    return (await this.aliases.resolve(name)) ?? name;
  }

  private async open(name: string): Promise<{ table: lancedb.Table; collection: string }> {
    const collection = await this.resolve(name);
    const table = await this.tables.tryOpen(collection);
    if (!table) throw new Error(`Collection "${name}" does not exist in LanceDB at ${this.tables.uri}; call ensureCollection first`);
    return { table, collection };
  }

  // ---- collections ------------------------------------------------------------------------------------------

  async ensureCollection(name: string, spec: CollectionSpec): Promise<void> {
    checkCollectionSpec(name, spec);
    const collection = await this.resolve(name);
    await this.tables.lock(collection, async () => {
      let table = await this.tables.tryOpen(collection);
      if (table) {
        const dimension = await dimensionOf(table);
        if (dimension !== spec.dimension) {
          throw new Error(`Collection "${collection}" exists with dimension ${dimension}, not ${spec.dimension}; use another collection name (or drop it and rebuild)`);
        }
      } else {
        // Another process may create it at the same moment; then we get theirs and check it below.
        table = await this.tables.create(collection, chunkSchema(spec.dimension));
        const dimension = await dimensionOf(table);
        if (dimension !== spec.dimension) throw new Error(`Collection "${collection}" exists with dimension ${dimension}, not ${spec.dimension}`);
      }
      await this.upkeep.ensureFullTextIndex(table);
    });
  }

  async describe(name: string): Promise<CollectionInfo | undefined> {
    const collection = await this.resolve(name);
    const table = await this.tables.tryOpen(collection);
    if (!table) return undefined;
    return { name: collection, dimension: await dimensionOf(table), distance: 'cosine', count: await table.countRows() };
  }

  async listCollections(): Promise<string[]> {
    return (await this.tables.names()).filter((n) => !isParentsCollection(n)).sort();
  }

  async dropCollection(name: string): Promise<void> {
    validateName('collection', name);
    for (const table of [name, parentsCollectionOf(name)]) {
      await this.tables.lock(table, async () => {
        this.upkeep.reset(table);
        await this.tables.drop(table);
      });
    }
    // An alias to a dropped collection would dangle; Qdrant removes such aliases too.
    await this.aliases.removeTargeting(name);
  }

  // ---- writes -----------------------------------------------------------------------------------------------

  async upsert(name: string, points: Point[]): Promise<void> {
    if (points.length === 0) return;
    const { table, collection } = await this.open(name);
    const rows = preparePoints(points, await dimensionOf(table), collection).map(pointToRow);
    await this.tables.lock(collection, async () => {
      for (const slice of slices(rows, WRITE_CHUNK)) {
        await table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(slice);
      }
      await this.upkeep.afterWrite(collection, table, rows.length);
    });
  }

  async deleteByIds(name: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const { table, collection } = await this.open(name);
    await this.tables.lock(collection, async () => {
      for (const slice of slices(ids, ID_CHUNK)) await table.delete(sqlIn('id', slice));
      await this.upkeep.afterWrite(collection, table, 0);
    });
  }

  async deleteWhere(name: string, filter: Filter): Promise<void> {
    validateFilter(filter);
    if (!filter || filter.must.length === 0) throw new Error(`deleteWhere on "${name}" needs at least one condition (use dropCollection to delete everything)`);
    if (filterMatchesNothing(filter)) return;
    const { table, collection } = await this.open(name);
    const predicate = toLanceSql(filter) as string;
    await this.tables.lock(collection, async () => {
      await table.delete(predicate);
      await this.upkeep.afterWrite(collection, table, 0);
    });
  }

  /**
   * Compacts the table, folds unindexed rows into its indexes (full-text included) and builds scalar indexes once
   * it is big enough. Writes do this every so often; call it after a bulk load for the fastest searches.
   */
  async optimize(name: string): Promise<void> {
    const { table, collection } = await this.open(name);
    await this.tables.lock(collection, () => this.upkeep.optimize(table));
    this.upkeep.reset(collection);
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
    for (const slice of slices(ids, ID_CHUNK)) {
      const rows = await table.query().where(sqlIn('id', slice)).select(columns).toArray();
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
    validateVector(req.vector, await dimensionOf(table), `Search in "${collection}"`);
    let query = table.query().nearestTo(req.vector).distanceType('cosine').select([...HIT_COLUMNS, '_distance']).limit(req.limit);
    // Without an index, LanceDB scans every vector whatever the options; with one, nprobes partitions are scanned.
    query = req.exact ? query.bypassVectorIndex() : query.nprobes(this.nprobes);
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
    return hybridSearch(this, name, req);
  }

  // ---- parents (lancedb-parents.ts) -------------------------------------------------------------------------

  upsertParents(name: string, parents: ParentRecord[]): Promise<void> {
    return this.parents.upsert(name, parents);
  }

  getParents(name: string, parentIds: string[]): Promise<ParentRecord[]> {
    return this.parents.get(name, parentIds);
  }

  deleteParentsOfDocs(name: string, docIds: string[]): Promise<void> {
    return this.parents.deleteOfDocs(name, docIds);
  }

  // ---- aliases (lancedb-aliases.ts) -------------------------------------------------------------------------

  setAlias(alias: string, collection: string): Promise<void> {
    return this.aliases.set(alias, collection);
  }

  resolveAlias(alias: string): Promise<string | undefined> {
    return this.aliases.resolve(alias);
  }

  async close(): Promise<void> {
    this.aliases.close();
    await this.tables.close();
  }
}
