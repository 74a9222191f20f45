/**
 * LanceDB plumbing shared by the store's parts: one connection per store, table handles cached per process, and a
 * write lock per table. Writes to a table queue on that lock, so many activities writing at once in one process do
 * not spend their commits on conflict retries (across processes, Lance's primary-key marker makes concurrent
 * merge-inserts conflict and retry: lancedb-rows.ts).
 */
import * as lancedb from '@lancedb/lancedb';
import { DataType, type FixedSizeList, type Schema } from 'apache-arrow';
import { KeyedMutex } from './mutex';

/** Ids per `IN (...)` predicate of a read or delete by id. */
export const ID_CHUNK = 500;
/** Rows per merge-insert. */
export const WRITE_CHUNK = 5_000;

/** The slices of `items` of at most `size` each, in order. */
export function* slices<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

export function isNotFound(err: unknown): boolean {
  return /not found|does not exist|no such/i.test(String((err as Error)?.message ?? err));
}

export async function dimensionOf(table: lancedb.Table): Promise<number> {
  const field = (await table.schema()).fields.find((f) => f.name === 'vector');
  // Checked by type id, not instanceof: LanceDB may hand back types from its own copy of apache-arrow.
  if (!field || !DataType.isFixedSizeList(field.type)) throw new Error(`Table "${table.name}" has no fixed-size vector column`);
  return (field.type as FixedSizeList).listSize;
}

/** Writes to one table are serialised per process (all stores on the same uri share it). */
const writeLocks = new KeyedMutex();

export class LanceTables {
  private connection?: Promise<lancedb.Connection>;
  private readonly handles = new Map<string, Promise<lancedb.Table>>();

  constructor(
    readonly uri: string,
    private readonly storageOptions: Record<string, string>,
  ) {}

  db(): Promise<lancedb.Connection> {
    // readConsistencyInterval 0: every read sees the latest commit, also one made by another process (local disk
    // makes the check cheap; on S3 it is one small request), so "upsert returned" means "visible to search" across
    // workers. On S3, Lance commits a version with a conditional PUT (If-None-Match), so of two writers committing
    // the same version one gets a conflict and retries on top of the other's: see docs/vector-store.md.
    this.connection ??= lancedb.connect(this.uri, { readConsistencyInterval: 0, storageOptions: this.storageOptions });
    return this.connection;
  }

  lock<T>(table: string, fn: () => Promise<T>): Promise<T> {
    return writeLocks.run(`${this.uri}\0${table}`, fn);
  }

  /** The table, or undefined when it does not exist. Handles are cached per process. */
  async tryOpen(table: string): Promise<lancedb.Table | undefined> {
    let handle = this.handles.get(table);
    if (!handle) {
      handle = this.db().then((db) => db.openTable(table));
      this.handles.set(table, handle);
    }
    try {
      return await handle;
    } catch (err) {
      this.handles.delete(table);
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Creates an empty table; existOk: another process may create it at the same moment, and then we get theirs. */
  async create(table: string, schema: Schema): Promise<lancedb.Table> {
    const created = await (await this.db()).createEmptyTable(table, schema, { existOk: true });
    this.handles.set(table, Promise.resolve(created));
    return created;
  }

  /** Drops a table; one that does not exist is fine. */
  async drop(table: string): Promise<void> {
    this.handles.delete(table);
    try {
      await (await this.db()).dropTable(table);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async names(): Promise<string[]> {
    const db = await this.db();
    const names: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await db.listTables({ pageToken, limit: 1000 });
      names.push(...page.tables);
      pageToken = page.pageToken;
    } while (pageToken);
    return names;
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    this.handles.clear();
    if (connection) (await connection).close();
  }
}
