/**
 * LanceDB on S3 (the test stack's MinIO) as the store that several workers share: two writer processes upsert into
 * one collection at the same time, and no write is lost or doubled. Lance commits each table version with a
 * conditional PUT on S3 (a second writer of the same version gets a conflict and retries on top of the first), and
 * merge-inserts on the primary key `id` conflict instead of inserting twice; docs/vector-store.md has the details.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../lib/config';
import { storageOptionsFor } from '../../../lib/vectorstore';
import { LanceDBStore } from '../../../lib/vectorstore/lancedb';
import { DIM, makePoint } from '../../contract/points';
import { testConfig } from '../../harness/stack';

const config = testConfig();
const storageOptions = storageOptionsFor(config.s3);
const uri = `s3://${config.s3.bucket}/lancedb-s3-test/${randomUUID()}`;
const CHILD = path.join(PROJECT_ROOT, 'tests', 'integration', 'vectorstore', 's3-writer-child.ts');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

function startWriter(collection: string, writer: string, rounds: number) {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, uri, collection, writer, String(rounds), JSON.stringify(storageOptions)], {
    cwd: PROJECT_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(proc);
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (out.includes('ready')) {
        clearInterval(timer);
        resolve();
      }
    }, 20);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`writer ${writer} exited (${code}) before it was ready:\n${out}`));
    });
  });
  return { proc, ready, exited, output: () => out };
}

describe('LanceDB on S3 shared by several processes', () => {
  it('two writer processes upserting into one collection at once lose no write and double none', async () => {
    const collection = 'shared';
    const store = new LanceDBStore({ uri, storageOptions });
    await store.ensureCollection(collection, { dimension: DIM, distance: 'cosine' });
    const rounds = 6;
    const writers = [startWriter(collection, 'a', rounds), startWriter(collection, 'b', rounds)];
    await Promise.all(writers.map((w) => w.ready));
    for (const w of writers) w.proc.stdin!.write('go\n');
    const codes = await Promise.all(writers.map((w) => w.exited));
    expect(codes, writers.map((w) => w.output()).join('\n')).toEqual([0, 0]);

    // Each writer: 20 own points per round; both: the same 5 shared ids per round.
    const expected = 2 * rounds * 20 + rounds * 5;
    expect(await store.count(collection)).toBe(expected);
    const ids: string[] = [];
    for await (const p of store.scroll(collection)) ids.push(p.id);
    expect(ids).toHaveLength(expected);
    expect(new Set(ids).size).toBe(expected);
    for (const writer of ['a', 'b']) {
      for (let r = 0; r < rounds; r++) expect(await store.count(collection, { must: [{ field: 'docId', eq: `${writer}-${r}` }] })).toBe(20);
    }
    await store.close();
  }, 180_000);

  it('aliases live beside the tables on S3: another process (store) sees them', async () => {
    const a = new LanceDBStore({ uri, storageOptions });
    const b = new LanceDBStore({ uri, storageOptions });
    await a.ensureCollection('blue', { dimension: DIM, distance: 'cosine' });
    await a.upsert('blue', [makePoint({ docId: 'x' })]);
    await a.setAlias('live', 'blue');
    expect(await b.resolveAlias('live')).toBe('blue');
    expect(await b.count('live')).toBe(1);
    await a.dropCollection('blue');
    expect(await b.resolveAlias('live')).toBeUndefined();
    await Promise.all([a.close(), b.close()]);
  });
});
