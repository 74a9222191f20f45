/**
 * The parents (small-to-big sections) of a LanceDB collection `x`: the table `x__parents`, keyed by parentId and
 * made on the first upsert. Its writes take the table's own write lock and count towards its own optimisations.
 */
import { sqlIn } from './filter';
import type { IndexUpkeep } from './lancedb-index-upkeep';
import { PARENTS_SCHEMA } from './lancedb-rows';
import { ID_CHUNK, type LanceTables, slices, WRITE_CHUNK } from './lancedb-tables';
import { parentsCollectionOf } from './names';
import { prepareParents } from './payload';
import type { ParentRecord } from './types';

export class LanceParents {
  constructor(
    private readonly tables: LanceTables,
    private readonly upkeep: IndexUpkeep,
    /** The collection behind an alias, or the name itself. */
    private readonly resolve: (name: string) => Promise<string>,
  ) {}

  async upsert(name: string, parents: ParentRecord[]): Promise<void> {
    if (parents.length === 0) return;
    const collection = await this.resolve(name);
    const tableName = parentsCollectionOf(collection);
    const rows = prepareParents(parents, collection);
    await this.tables.lock(tableName, async () => {
      const table = (await this.tables.tryOpen(tableName)) ?? (await this.tables.create(tableName, PARENTS_SCHEMA));
      for (const slice of slices(rows, WRITE_CHUNK)) {
        await table.mergeInsert('parentId').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(slice as unknown as Record<string, unknown>[]);
      }
      await this.upkeep.afterWrite(tableName, table, rows.length);
    });
  }

  async get(name: string, parentIds: string[]): Promise<ParentRecord[]> {
    if (parentIds.length === 0) return [];
    const table = await this.tables.tryOpen(parentsCollectionOf(await this.resolve(name)));
    if (!table) return [];
    const out: ParentRecord[] = [];
    for (const slice of slices(parentIds, ID_CHUNK)) {
      const rows = await table.query().where(sqlIn('parentId', slice)).toArray();
      for (const r of rows) out.push({ parentId: r.parentId, docId: r.docId, text: r.text, headingPath: r.headingPath });
    }
    return out;
  }

  async deleteOfDocs(name: string, docIds: string[]): Promise<void> {
    if (docIds.length === 0) return;
    const tableName = parentsCollectionOf(await this.resolve(name));
    const table = await this.tables.tryOpen(tableName);
    if (!table) return;
    await this.tables.lock(tableName, async () => {
      for (const slice of slices(docIds, ID_CHUNK)) await table.delete(sqlIn('docId', slice));
      await this.upkeep.afterWrite(tableName, table, 0);
    });
  }
}
