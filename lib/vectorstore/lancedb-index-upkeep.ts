/**
 * Index upkeep of the LanceDB store's tables: the full-text (BM25) index every chunk table has, the scalar indexes
 * on filter fields and the IVF_FLAT vector index a big table earns, and the optimisations that fold new rows into
 * them (docs/vector-store.md).
 *
 * - LanceDB 0.39 searches rows written after the last index update with a flat scan (unless a query asks for
 *   `fastSearch`), so results are complete right after every write; `optimize()` folds new rows into the indexes and
 *   keeps that scan short. A write triggers it as soon as the table holds `optimizeUnindexedRows` rows the FTS index
 *   has not seen (1,000 by default: a BM25 scan of 10,000 unindexed rows took ~600 ms per query, an indexed query
 *   ~7 ms; an optimisation ~1 s), or every `optimizeEveryWrites` writes.
 * - Vector search is exact (a scan of every vector) on small tables; from `vectorIndexMinRows` rows on, an IVF_FLAT
 *   index (k-means partitions of the full-precision vectors). Why IVF_FLAT: on 100k MiniLM-like vectors it built in
 *   2 s and needs no refine step, where IVF_PQ needed 250 s of training and a refine step for the same recall and
 *   HNSW_SQ stayed at recall@10 0.84. The index is rebuilt with more partitions when the table has doubled; rows
 *   added since the last optimisation are scanned exactly, so results stay complete.
 */
import * as lancedb from '@lancedb/lancedb';

export interface IndexUpkeepOptions {
  optimizeEveryWrites: number;
  optimizeUnindexedRows: number;
  scalarIndexMinRows: number;
  vectorIndexMinRows: number;
  vectorIndexPartitionRows: number;
}

/** Name of the FTS index LanceDB gives `text` (`<column>_idx`). */
const FTS_INDEX = 'text_idx';
/** The vector index is named for its partition count, so a grown table knows when to rebuild it. */
const VECTOR_INDEX = /^vector_ivf_p(\d+)$/;
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

export class IndexUpkeep {
  /** Writes per table in this process since its last optimisation. */
  private readonly writesSinceOptimize = new Map<string, number>();

  constructor(private readonly opts: IndexUpkeepOptions) {}

  /** The FTS index on `text`; also repairs a table whose creator stopped before indexing it. */
  async ensureFullTextIndex(table: lancedb.Table): Promise<void> {
    const hasFts = async () => (await table.listIndices()).some((i) => i.columns.includes('text') && i.indexType === 'FTS');
    if (await hasFts()) return;
    try {
      await table.createIndex('text', { config: lancedb.Index.fts(), replace: false });
    } catch (err) {
      if (!(await hasFts())) throw err; // else another process indexed it first
    }
  }

  /**
   * Optimises when the full-text index lags by `optimizeUnindexedRows` rows (checked from the index's own statistics,
   * so rows written by other processes count too) or after `optimizeEveryWrites` writes here. A failed optimisation
   * is only a warning: the write itself is done, and the next one tries again. Call it holding the table's write lock.
   */
  async afterWrite(name: string, table: lancedb.Table, rows: number): Promise<void> {
    const writes = (this.writesSinceOptimize.get(name) ?? 0) + 1;
    this.writesSinceOptimize.set(name, writes);
    try {
      const lagging = rows > 0 && ((await table.indexStats(FTS_INDEX))?.numUnindexedRows ?? 0) >= this.opts.optimizeUnindexedRows;
      if (!lagging && writes < this.opts.optimizeEveryWrites) return;
      this.writesSinceOptimize.delete(name);
      await this.optimize(table);
    } catch (err) {
      console.warn(`LanceDB: optimising "${name}" failed (will retry after later writes): ${(err as Error).message}`);
    }
  }

  /** Starts the write count of a table over (after an optimisation, or when it is dropped). */
  reset(name: string): void {
    this.writesSinceOptimize.delete(name);
  }

  /** Compacts the table, folds unindexed rows into its indexes and builds the indexes a table of its size earns. */
  async optimize(table: lancedb.Table): Promise<void> {
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
}
