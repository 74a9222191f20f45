/**
 * Source faults on the real stack (Temporal, MinIO, LanceDB, the MiniLM model, a real HTTP site on 127.0.0.1): a
 * sitemap-crawled site that goes down, rate-limits, serves challenge pages or suddenly lists nothing for a night.
 * After each bad night the collection must hold exactly what it held before (same documents, same points, nothing
 * duplicated) and the run must say why; a healthy sync afterwards changes nothing. Only positive evidence deletes:
 * a 404, or absence from a sitemap that was read completely, and a mass deletion is held by the guard.
 *
 * Each row is written to .twinflow/test-stack/source-faults.json for docs/reliability.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../../activities';
import { createDeps, type Deps } from '../../../activities/deps';
import { applySyncSchedule, deleteSyncSchedule, triggerSyncSchedule } from '../../../client/schedules';
import { PROJECT_ROOT } from '../../../lib/config';
import type { SyncInput, SyncResult } from '../../../lib/schemas/sync';
import { type FixtureSite, startFixtureSite } from '../../helpers/fixture-site';
import { testConfig } from '../../harness/stack';
import { withWorker } from '../../harness/worker';
import { points, uniqueCollection } from './helpers';

const config = testConfig({ LANCEDB_URI: path.join(os.tmpdir(), `twinflow-source-faults-${process.pid}-lancedb`) });
const collection = uniqueCollection('faults');
const PAGES = ['002', 'aclu', 'bbc-1', 'blogger', 'cnet', 'cnn'];
const REPORT = path.join(PROJECT_ROOT, '.twinflow', 'test-stack', 'source-faults.json');

let deps: Deps;
let site: FixtureSite;
let runs = 0;
const rows: Array<Record<string, unknown>> = [];

/** A Cloudflare interstitial as served with status 200. */
const CHALLENGE = `<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="refresh" content="360"><script src="/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1"></script></head>
<body><div class="main-wrapper" role="main"><div class="main-content"><h1 class="zone-name-title h1">www.example.com</h1>
<h2 class="h2" id="challenge-running">Verify you are human by completing the action below.</h2>
<div id="challenge-stage"></div><noscript><div class="h2">Enable JavaScript and cookies to continue</div></noscript>
<div id="challenge-body-text" class="core-msg spacer">www.example.com needs to review the security of your connection before proceeding.</div></div></div>
<div class="footer" role="contentinfo"><div class="footer-inner"><div class="clearfix diagnostic-wrapper"><div class="ray-id">Ray ID: <code>8f1a2b3c4d5e6f70</code></div></div>
<div class="text-center" id="footer-text">Performance &amp; security by <a rel="noopener noreferrer" href="https://www.cloudflare.com">Cloudflare</a></div></div></div>
<script>(function(){window._cf_chl_opt={cvId: '3',cZone: 'www.example.com',cType: 'managed'};})();</script></body></html>`;

/** An interstitial no rule knows: the same text for every page of the site (what a new bot wall looks like). */
const UNKNOWN_WALL = `<!doctype html><html><head><title>Welcome</title></head><body><main><h1>Welcome</h1>
<p>${'Our systems are processing your request and the content you asked for will appear on this address shortly. '.repeat(5)}</p></main></body></html>`;

function input(extra: Partial<SyncInput> = {}): SyncInput {
  return {
    collection,
    sources: [
      {
        type: 'web',
        id: 'site',
        sitemaps: [site.url('/sitemap.xml')],
        perHostRps: 50,
        perHostConcurrency: 4,
        timeoutMs: 3000,
        retry: { attempts: 2, baseDelayMs: 20, maxDelayMs: 100, maxRetryAfterMs: 200 },
      },
    ],
    partSize: 3,
    ...extra,
  };
}

async function runSync(extra: Partial<SyncInput> = {}): Promise<{ result: SyncResult; searchAttributes: Record<string, unknown> }> {
  runs += 1;
  return withWorker(config, createActivities(deps), async ({ client, taskQueue }) => {
    const handle = await client.workflow.start('sync', { taskQueue, workflowId: `source-faults-${runs}-${taskQueue}`, args: [input(extra)] });
    const result = (await handle.result()) as SyncResult;
    const described = await handle.describe();
    return { result, searchAttributes: described.searchAttributes as Record<string, unknown> };
  });
}

interface Snapshot {
  documents: string[];
  points: number;
  ids: number;
  byDoc: Record<string, string>;
}

async function snapshot(): Promise<Snapshot> {
  const all = await points(deps, collection);
  const byDoc: Record<string, string> = {};
  for (const p of all) byDoc[p.payload.docId] = p.payload.contentHash;
  return { documents: Object.keys(byDoc).sort(), points: all.length, ids: new Set(all.map((p) => p.id)).size, byDoc };
}

let healthy: Snapshot;

/** Runs a sync during a fault and checks that the store is exactly as it was: nothing lost, nothing duplicated. */
async function badNight(name: string, injected: string, fault: () => void, extra: Partial<SyncInput> = {}): Promise<SyncResult> {
  fault();
  let result: SyncResult;
  try {
    result = (await runSync(extra)).result;
  } finally {
    site.clearRoutes();
  }
  const after = await snapshot();
  const lost = healthy.documents.filter((d) => !after.documents.includes(d) || after.byDoc[d] !== healthy.byDoc[d]).length;
  const duplicated = after.points - after.ids;
  rows.push({
    fault: name,
    injected,
    outcome: `${result.documents.deleted} deleted, ${result.documents.retained} kept (${Object.entries(result.sources[0]?.kept ?? {}).map(([k, v]) => `${k} ${v}`).join(', ') || result.sources[0]?.status})`,
    documentsBefore: healthy.documents.length,
    documentsAfter: after.documents.length,
    pointsBefore: healthy.points,
    pointsAfter: after.points,
    lost,
    duplicated,
    command: `npx vitest run --project integration tests/integration/sync/source-faults.test.ts -t '${name}'`,
  });
  expect(result.documents.deleted).toBe(0);
  expect(result.documents.inserted + result.documents.updated).toBe(0);
  expect(result.chunks.deleted).toBe(0);
  expect(after).toEqual(healthy);
  expect(lost).toBe(0);
  expect(duplicated).toBe(0);
  return result;
}

beforeAll(async () => {
  fs.rmSync(config.vectorStore.lancedbUri, { recursive: true, force: true });
  deps = createDeps(config);
  site = await startFixtureSite({ pages: PAGES });
  const first = (await runSync()).result;
  expect(first.documents.inserted).toBe(PAGES.length);
  healthy = await snapshot();
  expect(healthy.documents).toHaveLength(PAGES.length);
});

afterAll(async () => {
  fs.mkdirSync(path.dirname(REPORT), { recursive: true });
  fs.writeFileSync(REPORT, `${JSON.stringify(rows, null, 2)}\n`);
  await site?.close();
  await deps.artifacts.deletePrefix(`state/${collection}/`);
  fs.rmSync(config.vectorStore.lancedbUri, { recursive: true, force: true });
});

describe('a bad night at the source loses nothing', () => {
  it('robots.txt 503', async () => {
    const r = await badNight('robots.txt 503', 'robots.txt answers 503 (RFC 9309: assume disallowed for now)', () =>
      site.setRoute('/robots.txt', (_q, res) => res.writeHead(503).end()),
    );
    expect(r.documents.retained).toBe(PAGES.length);
  });

  it('sitemap 500', async () => {
    const r = await badNight('sitemap 500', 'sitemap.xml answers 500', () => site.setRoute('/sitemap.xml', (_q, res) => res.writeHead(500).end()));
    expect(r.documents.retained).toBe(PAGES.length);
  });

  it('connection refused', async () => {
    // The whole site down: the port is closed for the night, then the same origin comes back.
    const port = Number(new URL(site.baseUrl).port);
    await site.close();
    try {
      await badNight('connection refused', 'the site is down: nothing listens on its port', () => undefined);
    } finally {
      site = await startFixtureSite({ pages: PAGES, port });
    }
  });

  it('every page 5xx', async () => {
    const r = await badNight('pages 503', 'the sitemap is fine, every page answers 503', () => {
      for (const slug of PAGES) site.setRoute(`/${slug}/`, (_q, res) => res.writeHead(503, { 'retry-after': '0' }).end());
    });
    // Nothing could be read: the source failed as a whole this night.
    expect(r.sources[0]!.status).toBe('failed');
    expect(r.sources[0]!.kept).toEqual({ source_failed: PAGES.length });
  });

  it('a 429 storm', async () => {
    const r = await badNight('429 storm', 'every request, robots.txt and sitemap included, answers 429 with Retry-After', () =>
      site.setFallback((_q, res) => res.writeHead(429, { 'retry-after': '1' }).end()),
    );
    expect(r.documents.retained).toBe(PAGES.length);
  });

  it('one challenge page', async () => {
    const r = await badNight('challenge page', 'one page serves a Cloudflare "Just a moment..." interstitial with status 200', () =>
      site.setRoute(`/${PAGES[1]}/`, (_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(CHALLENGE)),
    );
    expect(r.sources[0]!.kept).toEqual({ bot_challenge: 1 });
  });

  it('challenge pages for the whole site', async () => {
    const r = await badNight('challenge pages, whole site', 'every page and the sitemap serve the Cloudflare interstitial with 200', () =>
      site.setFallback((_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(CHALLENGE)),
    );
    expect(r.documents.retained).toBe(PAGES.length);
  });

  it('an unknown interstitial on every page', async () => {
    // No rule knows this page; that distinct pages all converged on one text is the evidence.
    const r = await badNight('unknown interstitial', 'every page serves the same unknown "please wait" page with 200', () => {
      for (const slug of PAGES) site.setRoute(`/${slug}/`, (_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(UNKNOWN_WALL));
    });
    expect(r.sources[0]!.kept).toEqual({ same_content: PAGES.length });
  });

  it('one page became a copy of another', async () => {
    const copied = site.pages.find((p) => p.slug === PAGES[3])!;
    const r = await badNight('duplicate page', "one page serves another page's content", () =>
      site.setRoute(`/${PAGES[2]}/`, (_q, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(fs.readFileSync(copied.file))),
    );
    expect(r.sources[0]!.kept).toEqual({ duplicate: 1 });
    // And a page that now redirects to another listed page.
    const moved = await badNight('redirect to a listed page', 'one page redirects (302) to another page of the sitemap', () =>
      site.setRoute(`/${PAGES[2]}/`, (_q, res) => res.writeHead(302, { location: `/${PAGES[3]}/` }).end()),
    );
    expect(moved.sources[0]!.kept).toEqual({ duplicate: 1 });
  });

  it('pages that clean to nothing', async () => {
    const r = await badNight('empty pages', 'two pages serve an empty body with 200', () => {
      for (const slug of PAGES.slice(0, 2)) site.setRoute(`/${slug}/`, (_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body></body></html>'));
    });
    expect(Object.values(r.sources[0]!.kept ?? {}).reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('a source that suddenly lists nothing is held by the deletion guard', async () => {
    const held = await badNight('empty sitemap', 'the sitemap is valid but lists no page', () =>
      site.setRoute('/sitemap.xml', (_q, res) =>
        res.writeHead(200, { 'content-type': 'application/xml' }).end('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>'),
      ),
    );
    expect(held.status).toBe('deletions_held');
    expect(held.deletionsHeld).toMatchObject({ documents: PAGES.length, sources: [`site (${PAGES.length} of ${PAGES.length})`] });
    expect(held.deletionsHeld!.reason).toMatch(/allowMassDeletion/);
    expect(held.sources[0]!.kept).toEqual({ deletions_held: PAGES.length });
  });

  it('a healthy night afterwards changes nothing', async () => {
    const { result, searchAttributes } = await runSync();
    expect(result.status).toBe('ok');
    expect(result.documents).toEqual({ inserted: 0, updated: 0, deleted: 0, unchanged: PAGES.length, retained: 0 });
    expect(result.chunks.embedded).toBe(0);
    expect(await snapshot()).toEqual(healthy);
    expect(searchAttributes.TwinflowStatus).toBeUndefined();
  });
});

describe('the nightly schedule', () => {
  it('fires during a bad night (challenge pages, then the site down) and loses nothing', async () => {
    const scheduleId = `faults-${collection}`;
    await withWorker(config, createActivities(deps), async ({ client, taskQueue }) => {
      await applySyncSchedule(client, { id: scheduleId, cron: '0 2 * * *', sync: input() }, { taskQueue });
      try {
        const night = async (n: number) => {
          await triggerSyncSchedule(client, scheduleId);
          const deadline = Date.now() + 60_000;
          let ids: string[] = [];
          while (ids.length < n) {
            if (Date.now() > deadline) throw new Error(`the schedule took ${ids.length} actions, expected ${n}`);
            await sleep(200);
            ids = (await client.schedule.getHandle(scheduleId).describe()).info.recentActions.map((a) => a.action.workflow.workflowId);
          }
          return (await client.workflow.getHandle(ids[n - 1]!).result()) as SyncResult;
        };
        site.setFallback((_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(CHALLENGE));
        const challenged = await night(1);
        site.clearRoutes();
        expect(challenged.documents.deleted).toBe(0);
        expect(await snapshot()).toEqual(healthy);
        site.setFallback((req, res) => res.socket?.destroy());
        const down = await night(2);
        site.clearRoutes();
        expect(down.documents.deleted).toBe(0);
        expect(await snapshot()).toEqual(healthy);
        const healthyNight = await night(3);
        expect(healthyNight.documents).toEqual({ inserted: 0, updated: 0, deleted: 0, unchanged: PAGES.length, retained: 0 });
      } finally {
        site.clearRoutes();
        await deleteSyncSchedule(client, scheduleId).catch(() => undefined);
      }
    });
  });
});

describe('a feed lists only its latest items', () => {
  it('so a page that dropped out of the feed is kept, not deleted', async () => {
    const feedCollection = `${collection}_feed`;
    const feedInput = (): SyncInput => ({ ...input(), collection: feedCollection, sources: [{ ...input().sources[0]!, sitemaps: undefined, feeds: [site.url('/feed.xml')] } as SyncInput['sources'][number]] });
    const rss = (slugs: string[]) =>
      `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>${site.baseUrl}</link><description>d</description>${slugs
        .map((p) => `<item><title>${p}</title><link>${site.url(`/${p}/`)}</link></item>`)
        .join('')}</channel></rss>`;
    const run = (slugs: string[]) => {
      site.setRoute('/feed.xml', (_q, res) => res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rss(slugs)));
      return withWorker(config, createActivities(deps), async ({ client, taskQueue }) =>
        client.workflow.execute('sync', { taskQueue, workflowId: `source-faults-feed-${++runs}-${taskQueue}`, args: [feedInput()] }),
      ) as Promise<SyncResult>;
    };
    try {
      expect((await run(PAGES.slice(0, 3))).documents.inserted).toBe(3);
      const later = await run(PAGES.slice(1, 4)); // a new item on top, the oldest one fell off the feed
      expect(later.documents).toMatchObject({ inserted: 1, deleted: 0, retained: 1 });
      expect(later.sources[0]!.kept).toEqual({ not_listed: 1 });
      expect(later.sources[0]!.listingGaps).toEqual(['a feed lists only its latest items']);
      expect(new Set((await points(deps, feedCollection)).map((p) => p.payload.docId)).size).toBe(4);
    } finally {
      site.clearRoutes();
      await deps.artifacts.deletePrefix(`state/${feedCollection}/`);
    }
  });
});

describe('positive evidence deletes', () => {
  it('a 404, and a page gone from a sitemap read completely, are deleted', async () => {
    const [gone, unlisted] = [PAGES[4]!, PAGES[5]!];
    site.setRoute(`/${gone}/`, (_q, res) => res.writeHead(404).end());
    site.setRoute('/sitemap.xml', (_q, res) => {
      const urls = PAGES.filter((p) => p !== unlisted).map((p) => `<url><loc>${site.url(`/${p}/`)}</loc></url>`);
      res.writeHead(200, { 'content-type': 'application/xml' }).end(`<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${urls.join('')}</urlset>`);
    });
    try {
      const { result } = await runSync();
      expect(result.status).toBe('ok');
      expect(result.documents).toMatchObject({ deleted: 2, unchanged: PAGES.length - 2, retained: 0 });
      const after = await snapshot();
      expect(after.documents).toHaveLength(PAGES.length - 2);
      expect(after.points).toBe(after.ids);
    } finally {
      site.clearRoutes();
    }
    // They come back when the site has them again.
    const { result } = await runSync();
    expect(result.documents).toMatchObject({ inserted: 2, deleted: 0 });
    expect(await snapshot()).toEqual(healthy);
  });

  it('a mass deletion held by the guard goes through when the run allows it', async () => {
    const empty = '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>';
    site.setRoute('/sitemap.xml', (_q, res) => res.writeHead(200, { 'content-type': 'application/xml' }).end(empty));
    try {
      const { result: held, searchAttributes } = await runSync();
      expect(held.status).toBe('deletions_held');
      expect(searchAttributes.TwinflowStatus).toEqual(['deletions_held']);
      expect((await snapshot()).documents).toHaveLength(PAGES.length);
      const { result: allowed } = await runSync({ allowMassDeletion: true });
      expect(allowed.status).toBe('ok');
      expect(allowed.documents.deleted).toBe(PAGES.length);
      expect(await (await deps.vectorStore()).count(collection)).toBe(0);
    } finally {
      site.clearRoutes();
    }
  });
});
