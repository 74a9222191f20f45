/**
 * A crawl step that works a long time before its first outcome (a slow clone, a big sitemap or listing) still
 * heartbeats, so Temporal's heartbeat timeout does not kill a clone that is merely slow. The repository is served
 * over git's smart HTTP protocol by `git http-backend` behind a server that holds every response back.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrawlActivities, type CrawlInput, type CrawlOutput } from '../../../activities/crawl';
import { createDeps } from '../../../activities/deps';
import { testConfig } from '../../harness/stack';

const deps = createDeps(testConfig());
const { crawlSource } = createCrawlActivities(deps);
const runKey = `test/crawl-liveness/${randomUUID()}`;
/** Each HTTP response of the git server is held back this long: the clone takes well over one liveness interval. */
const DELAY_MS = 6_000;
let work: string;
let server: http.Server;
let repoUrl: string;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-slow-git-'));
  const repo = path.join(work, 'repo');
  fs.mkdirSync(repo);
  const git = (args: string[], cwd: string) =>
    execFileSync('git', args, { cwd, env: { ...process.env, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@x', GIT_CONFIG_GLOBAL: '/dev/null' } });
  git(['init', '-q', '-b', 'main'], repo);
  fs.writeFileSync(path.join(repo, 'README.md'), '# Slow\n\nA repository on a slow host.\n');
  git(['add', '-A'], repo);
  git(['commit', '-q', '-m', 'first'], repo);
  git(['clone', '-q', '--bare', repo, path.join(work, 'slow.git')], work);

  // git's own smart HTTP server (a CGI), every response held back DELAY_MS.
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        ...process.env,
        GIT_PROJECT_ROOT: work,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        GIT_CONFIG_GLOBAL: '/dev/null',
      },
    });
    req.pipe(cgi.stdin);
    const out: Buffer[] = [];
    cgi.stdout.on('data', (d: Buffer) => out.push(d));
    cgi.on('close', async () => {
      await sleep(DELAY_MS);
      const all = Buffer.concat(out);
      const split = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, split).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of head) {
        const i = line.indexOf(':');
        const [k, v] = [line.slice(0, i).trim(), line.slice(i + 1).trim()];
        if (k.toLowerCase() === 'status') status = Number(v.split(' ')[0]);
        else headers[k] = v;
      }
      res.writeHead(status, headers).end(all.subarray(split + 4));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  repoUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow.git`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
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
