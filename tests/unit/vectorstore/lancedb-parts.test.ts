/** The LanceDB store's parts on their own: the alias registry, the table plumbing and the parents table. */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkCollectionSpec, checkLimit } from '../../../lib/vectorstore/checks';
import { aliasFilesFor, LanceAliases } from '../../../lib/vectorstore/lancedb-aliases';
import { IndexUpkeep } from '../../../lib/vectorstore/lancedb-index-upkeep';
import { LanceParents } from '../../../lib/vectorstore/lancedb-parents';
import { LanceTables, slices } from '../../../lib/vectorstore/lancedb-tables';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'twinflow-lancedb-parts-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('slices', () => {
  it('cuts a list into consecutive slices of at most `size`', () => {
    expect([...slices([1, 2, 3, 4, 5], 2)]).toEqual([[1, 2], [3, 4], [5]]);
    expect([...slices([], 3)]).toEqual([]);
  });
});

describe('checks', () => {
  it('refuses what ensureCollection and every search refuse, in the same words on both stores', () => {
    expect(() => checkLimit(0)).toThrow('Invalid limit 0: expected a positive integer');
    expect(() => checkLimit(2.5, 'candidates')).toThrow('Invalid candidates 2.5: expected a positive integer');
    expect(() => checkLimit(3)).not.toThrow();
    expect(() => checkCollectionSpec('c', { dimension: 0, distance: 'cosine' })).toThrow('Invalid dimension 0 for "c": expected a positive integer');
    expect(() => checkCollectionSpec('c', { dimension: 4, distance: 'dot' as never })).toThrow('Unsupported distance "dot" for "c": only cosine');
    expect(() => checkCollectionSpec('x__parents', { dimension: 4, distance: 'cosine' })).toThrow(/reserved/);
    expect(() => checkCollectionSpec('c', { dimension: 4, distance: 'cosine' })).not.toThrow();
  });
});

describe('LanceAliases (local folder)', () => {
  const registry = (dir: string, tables: string[]) => new LanceAliases(aliasFilesFor(dir), async (name) => tables.includes(name));

  it('points an alias at a collection, lists it, and removes the aliases of a dropped collection', async () => {
    const dir = tempDir();
    const aliases = registry(dir, ['docs_v1', 'docs_v2']);
    await aliases.set('docs', 'docs_v1');
    await aliases.set('latest', 'docs_v1');
    expect(await aliases.resolve('docs')).toBe('docs_v1');
    await aliases.set('docs', 'docs_v2');
    expect(await aliases.resolve('docs')).toBe('docs_v2');
    expect((await aliases.list()).sort()).toEqual([
      ['docs', 'docs_v2'],
      ['latest', 'docs_v1'],
    ]);
    await aliases.removeTargeting('docs_v1');
    expect(await aliases.list()).toEqual([['docs', 'docs_v2']]);
    // Replaced by rename: no temp file is left behind.
    expect(readdirSync(path.join(dir, '_aliases'))).toEqual(['docs.json']);
  });

  it('refuses an alias to a missing collection, to an alias, or with a collection\'s name', async () => {
    const dir = tempDir();
    await expect(registry(dir, ['a', 'b']).set('x', 'missing')).rejects.toThrow('Cannot point alias "x" at "missing": no such collection');
    await registry(dir, ['a', 'b']).set('x', 'a');
    // Even where a table is named like the alias, an alias is not a target.
    await expect(registry(dir, ['a', 'b', 'x']).set('y', 'x')).rejects.toThrow('Cannot point alias "y" at "x": that is an alias, not a collection');
    await expect(registry(dir, ['a', 'b']).set('b', 'a')).rejects.toThrow('Cannot create alias "b": a collection has that name');
    await expect(registry(dir, ['a']).set('bad name', 'a')).rejects.toThrow(/Invalid alias name/);
    expect(await registry(dir, ['a']).list()).toEqual([['x', 'a']]);
  });

  it('reads a name that cannot be an alias, or a file without a string target, as no alias', async () => {
    const dir = tempDir();
    const aliases = registry(dir, []);
    expect(await aliases.resolve('../etc')).toBeUndefined();
    expect(await aliases.resolve('nothing')).toBeUndefined();
    mkdirSync(path.join(dir, '_aliases'));
    writeFileSync(path.join(dir, '_aliases', 'odd.json'), JSON.stringify({ collection: 7 }));
    expect(await aliases.resolve('odd')).toBeUndefined();
    expect(await aliases.list()).toEqual([]);
  });
});

describe('LanceParents and LanceTables (local folder)', () => {
  it('creates the parents table on first upsert, reads, replaces and deletes parents by document, through an alias', async () => {
    const tables = new LanceTables(tempDir(), {});
    const upkeep = new IndexUpkeep({ optimizeEveryWrites: 50, optimizeUnindexedRows: 1_000, scalarIndexMinRows: 20_000, vectorIndexMinRows: 20_000, vectorIndexPartitionRows: 2_000 });
    const parents = new LanceParents(tables, upkeep, async (name) => (name === 'alias' ? 'c' : name));
    try {
      expect(await parents.get('c', ['p1'])).toEqual([]);
      await parents.upsert('alias', [
        { parentId: 'p1', docId: 'd1', text: 'one', headingPath: 'H1' },
        { parentId: 'p2', docId: 'd2', text: 'two', headingPath: 'H2' },
      ]);
      expect(await tables.names()).toEqual(['c__parents']);
      await parents.upsert('c', [{ parentId: 'p1', docId: 'd1', text: 'one, edited', headingPath: 'H1' }]);
      const got = await parents.get('alias', ['p1', 'p2', 'p3']);
      expect(got.sort((a, b) => a.parentId.localeCompare(b.parentId))).toEqual([
        { parentId: 'p1', docId: 'd1', text: 'one, edited', headingPath: 'H1' },
        { parentId: 'p2', docId: 'd2', text: 'two', headingPath: 'H2' },
      ]);
      await parents.deleteOfDocs('c', ['d1']);
      expect((await parents.get('c', ['p1', 'p2'])).map((p) => p.parentId)).toEqual(['p2']);
      await expect(parents.upsert('c', [{ parentId: '', docId: 'd', text: '', headingPath: '' }])).rejects.toThrow(/Invalid parent record for "c"/);
      await tables.drop('c__parents');
      await tables.drop('c__parents'); // a missing table is fine
      expect(await tables.names()).toEqual([]);
    } finally {
      await tables.close();
    }
  });
});
