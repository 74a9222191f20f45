/**
 * A crawl step that works a long time before its first outcome (a slow clone, a big sitemap or listing) still
 * heartbeats, so Temporal's heartbeat timeout does not kill a clone that is merely slow. The repository is served
 * over git's smart HTTP protocol by `git http-backend` behind a server that holds every response back.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrawlActivities, type CrawlInput, type CrawlOutput } from '../../../activities/crawl';
import { createDeps } from '../../../activities/deps';
import { testConfig } from '../../harness/stack';
import { type GitHttpServer, makeBareRepo, startGitHttpServer } from '../../helpers/git-http-server';

const deps = createDeps(testConfig());
const { crawlSource } = createCrawlActivities(deps);
const runKey = `test/crawl-liveness/${randomUUID()}`;
/** Each HTTP response of the git server is held back this long: the clone takes well over one liveness interval. */
const DELAY_MS = 6_000;
let work: string;
let server: GitHttpServer;
let repoUrl: string;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-slow-git-'));
  makeBareRepo(work, 'slow', { 'README.md': '# Slow\n\nA repository on a slow host.\n' });
  // git's own smart HTTP server (a CGI), every response held back DELAY_MS.
  server = await startGitHttpServer(work, { delayMs: DELAY_MS });
  repoUrl = `${server.url}/slow.git`;
});

afterAll(async () => {
  await server.close();
  fs.rmSync(work, { recursive: true, force: true });
  await deps.artifacts.deletePrefix(runKey);
});

describe('crawlSource on a slow git host', () => {
  it('heartbeats while the clone runs, and the clone succeeds', async () => {
    const env = new MockActivityEnvironment({ attempt: 1 });
    const beats: number[] = [];
    env.on('heartbeat', () => beats.push(performance.now()));
    const started = performance.now();
    const input: CrawlInput = { source: { type: 'git', id: 'slow', url: repoUrl } as CrawlInput['source'], runKey, partSize: 10 };
    const out = (await env.run(crawlSource, input)) as CrawlOutput;
    const took = performance.now() - started;
    expect(out.fetched).toBe(1);
    expect(out.listing.complete).toBe(true);
    // The clone (two held-back requests at least) took longer than two liveness intervals...
    expect(took).toBeGreaterThan(2 * DELAY_MS);
    // ...and no stretch of it went without a heartbeat for more than one interval (5 s) plus scheduling slack.
    const gaps = [started, ...beats].map((t, i, all) => (i === 0 ? 0 : t - all[i - 1]!));
    expect(beats.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...gaps)).toBeLessThan(7_000);
  }, 120_000);
});
