/** The s3 inbox source against the test stack's MinIO: listing, formats, globs, named keys, vanished objects, resume. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../../lib/artifacts';
import { createSource, type CrawlOutcome } from '../../../lib/crawl';
import { s3DocId } from '../../../lib/crawl/s3';
import { testConfig } from '../../harness/stack';

const config = testConfig();
const artifacts = ArtifactStore.fromConfig(config);
const prefix = `s3-source-test-${process.pid}-${Date.now()}/inbox/`;
const deps = { s3: { client: artifacts.s3, defaultBucket: artifacts.bucket } };

async function crawl(source: object, resumeAfter?: string): Promise<CrawlOutcome[]> {
  const out: CrawlOutcome[] = [];
  for await (const o of createSource({ type: 's3', id: 'inbox', prefix, ...source } as never, deps).crawl({ resumeAfter })) out.push(o);
  return out;
}

const key = (name: string) => `${prefix}${name}`;

beforeAll(async () => {
  await artifacts.putBytes(key('a.md'), '# Alpha\n\nThe alpha note, in Markdown.\n', 'text/markdown');
  await artifacts.putBytes(key('b.txt'), 'Plain text about beta.\n');
  await artifacts.putBytes(key('c.html'), '<html><head><title>Gamma page</title><meta name="author" content="Grace"></head><body><p>Gamma</p></body></html>');
  await artifacts.putBytes(key('d.json'), JSON.stringify({ title: 'Delta record', author: 'Dee', markdown: '# Delta\n\nFrom a service.', publishedAt: '2024-03-01', tags: ['x', 'y'] }));
  await artifacts.putBytes(key('e.json'), JSON.stringify({ id: 5, values: [1, 2, 3] }));
  await artifacts.putBytes(key('f.json'), '{ not json');
  await artifacts.putBytes(key('g.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1]));
  await artifacts.putBytes(key('drafts/h.md'), '# Draft\n');
  await artifacts.putBytes(key('sub dir/ü.md'), '# Unicode key\n\nText.\n');
});

afterAll(async () => {
  await artifacts.deletePrefix(prefix.split('/')[0]!);
});

describe('s3 inbox source', () => {
  it('lists the prefix in key order and reads each format into a raw document', async () => {
    const out = await crawl({ exclude: ['drafts/**'] });
    const byName = new Map(out.map((o) => [(o.kind === 'document' ? o.doc.location : o.location).slice(`s3://${artifacts.bucket}/${prefix}`.length), o]));
    expect([...byName.keys()]).toEqual(['a.md', 'b.txt', 'c.html', 'd.json', 'e.json', 'f.json', 'sub dir/ü.md']);
    const doc = (n: string) => {
      const o = byName.get(n)!;
      if (o.kind !== 'document') throw new Error(`${n}: ${o.reason} ${o.detail}`);
      return o.doc;
    };
    expect(doc('a.md')).toMatchObject({ sourceType: 's3', contentType: 'text/markdown', docId: s3DocId(artifacts.bucket, key('a.md')), path: key('a.md') });
    expect(doc('a.md').metadata).toMatchObject({ bucket: artifacts.bucket, key: key('a.md') });
    expect(doc('b.txt').contentType).toBe('text/plain');
    expect(doc('c.html')).toMatchObject({ contentType: 'text/html', title: 'Gamma page', author: 'Grace' });
    expect(doc('d.json')).toMatchObject({ contentType: 'text/markdown', title: 'Delta record', author: 'Dee', body: '# Delta\n\nFrom a service.', publishedAt: '2024-03-01T00:00:00.000Z' });
    expect(doc('d.json').metadata.tags).toEqual(['x', 'y']);
    expect(doc('e.json')).toMatchObject({ contentType: 'application/json' }); // plain JSON stays JSON (cleaned as code)
    expect(byName.get('f.json')).toMatchObject({ kind: 'skipped', reason: 'unsupported' });
    expect(doc('sub dir/ü.md').location).toBe(`s3://${artifacts.bucket}/${key('sub dir/ü.md')}`);
  });

  it('reads only named keys, and reports a key whose object is gone as not_found', async () => {
    const out = await crawl({ keys: [key('b.txt'), key('gone.md'), key('b.txt'), key('g.png')] });
    expect(out.map((o) => (o.kind === 'document' ? `doc ${o.doc.path}` : `${o.kind} ${o.reason} ${o.location}`))).toEqual([
      `doc ${key('b.txt')}`,
      `skipped excluded s3://${artifacts.bucket}/${key('g.png')}`,
      `failed not_found s3://${artifacts.bucket}/${key('gone.md')}`,
    ]);
  });

  it('resumes after a cursor', async () => {
    const all = await crawl({});
    const rest = await crawl({}, all[2]!.cursor);
    expect(rest.map((o) => o.cursor)).toEqual(all.slice(3).map((o) => o.cursor));
  });

  it('is refused without an S3 client', () => {
    expect(() => createSource({ type: 's3', id: 'inbox', prefix })).toThrow(/needs an S3 client/);
  });
});
