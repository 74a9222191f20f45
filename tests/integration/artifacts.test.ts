import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ArtifactNotFoundError, ArtifactStore } from '../../lib/artifacts';
import { testConfig } from '../harness/stack';

const store = ArtifactStore.fromConfig(testConfig());
const prefix = `test/artifacts/${randomUUID()}`;

afterAll(async () => {
  await store.deletePrefix(prefix);
  store.s3.destroy();
});

describe('ArtifactStore on MinIO', () => {
  it('puts and gets JSON, and reports missing objects by URI', async () => {
    const ref = await store.putJson(`${prefix}/a.json`, { hello: 'world', n: 1 });
    expect(ref.uri).toBe(`s3://twinflow-test/${prefix}/a.json`);
    expect(await store.getJson(ref.uri)).toEqual({ hello: 'world', n: 1 });
    await expect(store.getJson(`${prefix}/missing.json`)).rejects.toBeInstanceOf(ArtifactNotFoundError);
    expect(await store.getJsonIfExists(`${prefix}/missing.json`)).toBeUndefined();
    expect(await store.exists(ref.uri)).toBe(true);
  });

  it('streams JSON Lines larger than one multipart part, in order', async () => {
    async function* records() {
      // ~12 MB: more than one 8 MB part, never held whole in memory by the writer.
      for (let i = 0; i < 12_000; i++) yield { i, pad: 'x'.repeat(1000) };
    }
    const ref = await store.putJsonl(`${prefix}/big.jsonl`, records());
    expect(ref.count).toBe(12_000);
    expect(ref.bytes).toBeGreaterThan(8 * 1024 * 1024);
    let expected = 0;
    for await (const r of store.readJsonl<{ i: number }>(ref.uri)) {
      expect(r.i).toBe(expected);
      expected += 1;
    }
    expect(expected).toBe(12_000);
  });

  it('writes content-addressed objects idempotently and lists by prefix across pages', async () => {
    const a = await store.putContentAddressed(`${prefix}/cas`, 'same bytes');
    const b = await store.putContentAddressed(`${prefix}/cas`, 'same bytes');
    expect(a.uri).toBe(b.uri);
    await Promise.all(Array.from({ length: 1005 }, (_, i) => store.putBytes(`${prefix}/many/${String(i).padStart(4, '0')}`, String(i))));
    const keys: string[] = [];
    for await (const o of store.list(`${prefix}/many/`)) keys.push(o.key);
    expect(keys).toHaveLength(1005);
    expect(await store.deletePrefix(`${prefix}/many/`)).toBe(1005);
  });

  it('rejects URIs of another bucket instead of reading the wrong object', async () => {
    await expect(store.getJson('s3://other-bucket/x.json')).rejects.toThrow(/not in bucket twinflow-test/);
  });
});
