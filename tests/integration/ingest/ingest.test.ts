/**
 * The feature pipeline end to end on the real stack: a real website on localhost (real pages, sitemap, robots.txt and
 * misbehaving routes), a real git repository and a real folder, through a real Temporal worker into MinIO and an
 * embedded LanceDB store, with the real MiniLM embedding model.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../../activities';
import { createDeps, type Deps } from '../../../activities/deps';
import type { IngestInput, IngestResult } from '../../../lib/schemas/ingest';
import { type FixtureSite, startFixtureSite } from '../../helpers/fixture-site';
import { testConfig } from '../../harness/stack';
import { withWorker } from '../../harness/worker';

const PAGES = ['dropbox-blog', 'google-sre-book-1', 'firefox-nightly-blog', 'ietf-1', 'mercurial', 'wordpress', 'medium-3', 'wikipedia'];

let site: FixtureSite;
let tmp: string;
let deps: Deps;
let input: IngestInput;
let first: IngestResult;
const config = testConfig({ LANCEDB_URI: path.join(os.tmpdir(), `twinflow-ingest-${process.pid}-lancedb`) });

function makeGitRepo(dir: string): string {
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'node_modules', 'dep'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'README.md'),
    '# Quokka scheduler\n\nThe quokka scheduler assigns durable timers to workers by consistent hashing. '.repeat(6) + '\n\n## Usage\n\nRun `quokka start` and watch the timers fire.\n',
  );
  fs.writeFileSync(
    path.join(dir, 'src', 'ring.py'),
    '"""Consistent hashing ring used by the quokka scheduler."""\n\n' +
      Array.from({ length: 12 }, (_, i) => `def bucket_${i}(key: str) -> int:\n    """Return the bucket of key on ring ${i}."""\n    return hash((key, ${i})) % 4096\n`).join('\n'),
  );
  fs.writeFileSync(path.join(dir, 'node_modules', 'dep', 'index.js'), 'module.exports = 1;\n'.repeat(50));
  fs.writeFileSync(path.join(dir, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0, 1, 2, 3]));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-qm', 'init');
  return `file://${dir}`;
}

function makeFolder(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'notes.md'),
    '---\ntitle: Field notes on axolotl regeneration\nauthor: Ada Example\ndate: 2021-05-04\ntags: [biology, notes]\n---\n\n# Axolotl regeneration\n\n' +
      'Axolotls regrow limbs through a blastema, a mass of dedifferentiated cells that rebuilds the missing structure. '.repeat(8),
  );
  fs.writeFileSync(path.join(dir, 'todo.txt'), 'Short.');
  return dir;
}

async function ingestOnce(run: string): Promise<IngestResult> {
  return withWorker(config, createActivities(deps), async ({ client, taskQueue }) =>
    client.workflow.execute('ingest', { taskQueue, workflowId: `ingest-${run}-${taskQueue}`, args: [input] }),
  );
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-ingest-'));
  fs.rmSync(config.vectorStore.lancedbUri, { recursive: true, force: true });
  deps = createDeps(config);
  site = await startFixtureSite({ pages: PAGES });
  let flaky = 0;
  site.setRoute('/flaky/', (_req, res) => {
    flaky += 1;
    if (flaky === 1) {
      res.writeHead(500).end('try again');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><title>Flaky but fine</title></head><body><article><h1>Flaky but fine</h1>${'<p>The capybara cooperative publishes its harvest ledger every autumn, after the second rain.</p>'.repeat(8)}</article></body></html>`);
  });
  site.setRoute('/loop-a', (_req, res) => res.writeHead(302, { location: '/loop-b' }).end());
  site.setRoute('/loop-b', (_req, res) => res.writeHead(302, { location: '/loop-a' }).end());
  site.setRoute('/huge', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<html><body>${'x'.repeat(600_000)}</body></html>`);
  });
  site.setRoute('/logo.png', (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(64)));
  input = {
    collection: 'ingest_test',
    sources: [
      {
        type: 'web',
        id: 'site',
        sitemaps: [site.url('/sitemap.xml')],
        urls: [site.url('/flaky/'), site.url('/missing/'), site.url('/loop-a'), site.url('/private/secret'), site.url('/huge'), site.url('/logo.png')],
        maxBytes: 500_000,
        perHostRps: 50,
        perHostConcurrency: 4,
        retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 200 },
      },
      { type: 'git', id: 'repo', url: makeGitRepo(path.join(tmp, 'repo')) },
      { type: 'folder', id: 'notes', path: makeFolder(path.join(tmp, 'notes')) },
    ],
    chunking: { chunkTokens: 128, overlapTokens: 16 },
  } as IngestInput;
  first = await ingestOnce('first');
}, 300_000);

afterAll(async () => {
  await site?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.rmSync(config.vectorStore.lancedbUri, { recursive: true, force: true });
});

describe('ingest workflow', () => {
  it('loads every document of the three sources and reports what it skipped and why', async () => {
    // 8 sitemap pages + /flaky/ (a 500, then 200) + README.md and src/ring.py + notes.md (todo.txt is too short).
    expect(first.documents.fetched).toBe(PAGES.length + 1 + 2 + 2);
    expect(first.documents.failed).toMatchObject({ not_found: 1, redirect_loop: 1 });
    expect(first.documents.skipped).toMatchObject({ robots_disallowed: 1, too_large: 1, non_html: 1 });
    expect(first.documents.dropped).toMatchObject({ too_short: 1 });
    expect(first.documents.loaded).toBe(first.documents.fetched - 1);
    expect(first.chunks).toBeGreaterThan(first.documents.loaded);
    expect(first.vectors.written).toBe(first.chunks);
    expect(first.vectors.embedded + first.vectors.reused).toBe(first.chunks);

    const store = await deps.vectorStore();
    expect(await store.count('ingest_test')).toBe(first.chunks);
    const docIds = new Set<string>();
    for await (const p of store.scroll('ingest_test')) docIds.add(p.payload.docId);
    expect(docIds.size).toBe(first.documents.loaded);

    // The crawl report in S3 names each failure.
    const siteResult = first.sources.find((s) => s.sourceId === 'site')!;
    const report = await deps.artifacts.readAllJsonl<{ location: string; reason: string }>(siteResult.reportUri);
    expect(report.map((r) => r.reason).sort()).toEqual(['non_html', 'not_found', 'redirect_loop', 'robots_disallowed', 'too_large']);
    expect(report.find((r) => r.reason === 'not_found')!.location).toContain('/missing/');
    expect(await deps.artifacts.getJson(first.artifacts.report)).toMatchObject({ collection: 'ingest_test', chunks: first.chunks });
  });

  it('stores document metadata in the payload and keeps parent sections for small-to-big', async () => {
    const store = await deps.vectorStore();
    const page = site.pages.find((p) => p.slug === 'dropbox-blog')!;
    const hits: Array<{ payload: { title?: string; author?: string; sourceType: string; url?: string; parentId: string } }> = [];
    for await (const p of store.scroll('ingest_test', { must: [{ field: 'sourceId', eq: 'site' }] })) if (p.payload.url === site.url(page.path)) hits.push(p);
    expect(hits.length).toBeGreaterThan(1);
    expect(hits[0]!.payload).toMatchObject({ title: page.title, author: page.author, sourceType: 'web' });
    const parents = await store.getParents('ingest_test', [hits[0]!.payload.parentId]);
    expect(parents).toHaveLength(1);
    expect(parents[0]!.text.length).toBeGreaterThan(0);

    const notes: Array<{ payload: { author?: string; tags: string[]; publishedTs?: number } }> = [];
    for await (const p of store.scroll('ingest_test', { must: [{ field: 'sourceId', eq: 'notes' }] })) notes.push(p);
    expect(notes[0]!.payload).toMatchObject({ author: 'Ada Example', tags: ['biology', 'notes'] });
    expect(notes[0]!.payload.publishedTs).toBe(Date.parse('2021-05-04'));
  });

  it('finds a known page first when searching for a phrase from it', async () => {
    const store = await deps.vectorStore();
    const embedder = await deps.cachedEmbedder();
    const cases = [
      { query: 'axolotl limb regrowth through a blastema', location: 'notes.md' },
      { query: 'consistent hashing ring buckets in the quokka scheduler', location: 'ring.py' },
      { query: 'Dropbox async task framework', location: '/dropbox-blog/' },
    ];
    for (const c of cases) {
      const hits = await store.search('ingest_test', { vector: await embedder.embedQuery(c.query), limit: 3 });
      expect(hits[0]!.payload.location, c.query).toContain(c.location);
    }
  });

  it('is idempotent: the same input again leaves the same points and embeds nothing new', async () => {
    const second = await ingestOnce('second');
    const store = await deps.vectorStore();
    expect(await store.count('ingest_test')).toBe(first.chunks);
    expect(second.chunks).toBe(first.chunks);
    expect(second.vectors.embedded).toBe(0);
    expect(second.vectors.reused).toBe(first.chunks);
  });

  it('rejects a bad input at once with a non-retryable error naming the field', async () => {
    const err = await withWorker(config, createActivities(deps), async ({ client, taskQueue }) =>
      client.workflow
        .execute('ingest', { taskQueue, workflowId: `ingest-bad-${taskQueue}`, args: [{ collection: 'Bad Name!', sources: [{ type: 'web', id: 'w', urls: ['not a url'] }] }] })
        .catch((e: unknown) => e),
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as unknown as { message: string; nonRetryable: boolean };
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toContain('collection: expected a collection name');
    expect(cause.message).toContain('sources.0.urls.0');
  });

  it('fails at once, without retries, on chunks larger than the embedding model takes', async () => {
    const { err, attempts } = await withWorker(config, createActivities(deps), async ({ client, taskQueue }) => {
      const workflowId = `ingest-chunk-too-big-${taskQueue}`;
      const e = await client.workflow
        .execute('ingest', { taskQueue, workflowId, args: [{ ...input, collection: 'chunk_too_big', chunking: { chunkTokens: 300, parentTokens: 600 } }] })
        .catch((x: unknown) => x);
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      const failed = (history.events ?? []).filter((ev) => ev.activityTaskFailedEventAttributes);
      const types = failed.map((ev) => ev.activityTaskFailedEventAttributes!.failure?.applicationFailureInfo?.type);
      const scheduled = new Set(failed.map((ev) => String(ev.activityTaskFailedEventAttributes!.scheduledEventId)));
      return { err: e, attempts: { types, retried: failed.length - scheduled.size } };
    });
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(String(((err as WorkflowFailedError).cause as { cause?: { message?: string } } | undefined)?.cause?.message)).toMatch(
      /chunkTokens: 300 is more than the embedding model takes \(254/,
    );
    // Each chunk activity in flight failed once (parts run side by side), none was retried.
    expect(attempts.types.length).toBeGreaterThan(0);
    expect(new Set(attempts.types)).toEqual(new Set(['InvalidInput']));
    expect(attempts.retried).toBe(0);
  });
});
