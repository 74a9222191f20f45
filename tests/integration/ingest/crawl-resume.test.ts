/**
 * A retried crawl activity resumes from its last heartbeat: parts already written are kept, already-fetched pages
 * are not fetched again, and the final output is the same as an uninterrupted crawl's.
 */
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrawlActivities, type CrawlCheckpoint, type CrawlInput, type CrawlOutput, MAX_PART_BYTES } from '../../../activities/crawl';
import { createDeps } from '../../../activities/deps';
import type { RawDocument } from '../../../lib/schemas/documents';
import { type FixtureSite, startFixtureSite } from '../../helpers/fixture-site';
import { testConfig } from '../../harness/stack';

const deps = createDeps(testConfig());
const { crawlSource } = createCrawlActivities(deps);
let site: FixtureSite;
const runKey = `test/crawl-resume/${randomUUID()}`;

beforeAll(async () => {
  site = await startFixtureSite({ pages: 6 });
});
afterAll(async () => {
  await site.close();
  await deps.artifacts.deletePrefix(runKey);
});

describe('crawlSource', () => {
  it('resumes from the checkpoint of its last heartbeat instead of starting over', async () => {
    const input: CrawlInput = {
      source: { type: 'web', id: 'site', urls: site.pages.map((p) => site.url(p.path)), perHostRps: 100 } as CrawlInput['source'],
      runKey,
      partSize: 2,
    };

    // First attempt: record every heartbeat; keep the checkpoint taken after the first part was written.
    const first = new MockActivityEnvironment({ attempt: 1 });
    const checkpoints: CrawlCheckpoint[] = [];
    first.on('heartbeat', (d: unknown) => {
      if (d && (d as CrawlCheckpoint).partCounts) checkpoints.push(structuredClone(d as CrawlCheckpoint));
    });
    const full = (await first.run(crawlSource, input)) as CrawlOutput;
    expect(full.fetched).toBe(6);
    expect(full.rawParts.map((p) => p.count)).toEqual([2, 2, 2]);
    const afterFirstPart = checkpoints.find((c) => c.partCounts.length === 1)!;
    expect(afterFirstPart.cursor).toBeDefined();

    // Second attempt, as Temporal would run it after a crash: same input, that heartbeat's details.
    const hitsBefore = new Map(site.hits);
    const retry = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: afterFirstPart });
    const resumed = (await retry.run(crawlSource, input)) as CrawlOutput;
    const refetched = site.pages.filter((p) => (site.hits.get(p.path) ?? 0) > (hitsBefore.get(p.path) ?? 0)).map((p) => p.path);
    expect(refetched).toHaveLength(4); // the two pages of the first part were not fetched again
    expect(resumed.fetched).toBe(6);
    expect(resumed.rawParts).toEqual(full.rawParts);
    const locations = async (uris: string[]) => {
      const out: string[] = [];
      for (const uri of uris) for await (const d of deps.artifacts.readJsonl<RawDocument>(uri)) out.push(d.location);
      return out;
    };
    expect(await locations(resumed.rawParts.map((p) => p.uri))).toEqual(await locations(full.rawParts.map((p) => p.uri)));
  });

  it('cuts a part by bytes as well, so big pages never pile up in memory up to partSize', async () => {
    // Four pages of 6 MB each, partSize 100: one part by count, but bodies past MAX_PART_BYTES start a new part.
    const big = `<!doctype html><html><body><p>${'x'.repeat(6 * 1024 * 1024)}</p></body></html>`;
    for (const p of ['/big-1/', '/big-2/', '/big-3/', '/big-4/']) site.setRoute(p, (_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(big));
    const input: CrawlInput = {
      source: { type: 'web', id: 'big', urls: ['/big-1/', '/big-2/', '/big-3/', '/big-4/'].map((p) => site.url(p)), perHostRps: 100, maxBytes: 8 * 1024 * 1024 } as CrawlInput['source'],
      runKey: `${runKey}/big`,
      partSize: 100,
    };
    const out = (await new MockActivityEnvironment({ attempt: 1 }).run(crawlSource, input)) as CrawlOutput;
    expect(out.fetched).toBe(4);
    expect(out.rawParts.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...out.rawParts.map((p) => p.count))).toBeLessThanOrEqual(Math.ceil(MAX_PART_BYTES / (6 * 1024 * 1024)));
  });
});
