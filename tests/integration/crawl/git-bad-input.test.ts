/**
 * The git source against remotes that cannot be cloned: a closed port, a host name that does not resolve, a server
 * that never answers, a web page where a repository was expected, a repository without a commit, credentials in the
 * URL. Each ends in one `clone_failed` outcome that quotes git's own error, within seconds: never a hang, never a
 * throw. Real git, real servers on 127.0.0.1.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSource, GitSource } from '../../../lib/crawl';
import { gitSourceSchema } from '../../../lib/schemas/sources';
import { crawlAll } from './helpers';

let work: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-git-bad-'));
});
afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function closedPort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise((resolve) => s.close(resolve));
  return port;
}

function gitSource(url: string, extra: Record<string, unknown> = {}, deps: { cloneRetryDelaysMs?: number[] } = {}) {
  return createSource({ type: 'git', id: 'repo', url, ...extra }, { git: { tmpDir: work, ...deps } });
}

/** The crawl's only outcome, which must be a clone_failed report for the repository. */
async function cloneFailure(url: string, extra: Record<string, unknown> = {}, deps: { cloneRetryDelaysMs?: number[] } = {}) {
  const started = performance.now();
  const { outcomes } = await crawlAll(gitSource(url, extra, deps));
  const ms = performance.now() - started;
  expect(outcomes).toHaveLength(1);
  const o = outcomes[0]!;
  if (o.kind === 'document') throw new Error(`expected a clone_failed report, got a document ${o.doc.location}`);
  expect(o).toMatchObject({ kind: 'failed', reason: 'clone_failed' });
  return { detail: o.detail, location: o.location, ms };
}

describe('git source: remotes that cannot be cloned', () => {
  it('reports a closed port with git’s connection error, after its two short retries (seconds, not a hang)', async () => {
    const port = await closedPort();
    // Default retry delays (2 s, 4 s): a refused connection may be a server restarting, so it is retried twice.
    const { detail, ms } = await cloneFailure(`http://127.0.0.1:${port}/team/repo.git`);
    expect(detail).toMatch(new RegExp(`^git clone of http://127\\.0\\.0\\.1:${port}/team/repo\\.git failed: .*Failed to connect to 127\\.0\\.0\\.1 port ${port}`));
    expect(ms).toBeLessThan(15_000);
  });

  it('reports a host name that does not resolve', async () => {
    const { detail, ms } = await cloneFailure('https://git.no-such-host.invalid/team/repo.git', {}, { cloneRetryDelaysMs: [100] });
    expect(detail).toMatch(/Could not resolve host: git\.no-such-host\.invalid/);
    expect(ms).toBeLessThan(10_000);
  });

  it('gives up on a server that accepts the connection and never answers, after cloneTimeoutMs', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    const port = await listen(silent);
    try {
      const { detail, ms } = await cloneFailure(`http://127.0.0.1:${port}/repo.git`, { cloneTimeoutMs: 1500 }, { cloneRetryDelaysMs: [] });
      expect(detail).toBe(`git clone of http://127.0.0.1:${port}/repo.git did not finish within 1500 ms`);
      expect(ms).toBeLessThan(8000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('reports a URL that serves web pages rather than a repository, without retrying', async () => {
    let requests = 0;
    const site = http.createServer((req, res) => {
      requests++;
      if (req.url?.includes('/missing/')) return res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Welcome</title><p>This is a web page.</p>');
    });
    const port = await listen(site);
    try {
      // Default delays: a permanent failure waits for none of them.
      const missing = await cloneFailure(`http://127.0.0.1:${port}/missing/repo.git`);
      expect(missing.detail).toMatch(/not found/i);
      expect(missing.ms).toBeLessThan(1900);
      requests = 0;
      const page = await cloneFailure(`http://127.0.0.1:${port}/a-web-page`);
      // git itself takes the page for an empty repository (and exits 0); the report says both.
      expect(page.detail).toBe(`git clone of http://127.0.0.1:${port}/a-web-page: the repository is empty (it has no commit to read), or the URL is not a git repository (a web page answers like an empty one)`);
      expect(page.ms).toBeLessThan(1900);
      expect(requests).toBeGreaterThan(0);
    } finally {
      await new Promise((resolve) => site.close(resolve));
    }
  });

  it('refuses a URL with credentials in the source config (input is kept in the workflow history), naming the worker-side alternative', () => {
    expect(() => gitSource('http://jo:hunter2-secret@127.0.0.1:1/repo.git')).toThrow(/a URL with credentials .*is refused in workflow input.*git credential helper/);
  });

  it('takes the password out of a URL with credentials that reaches the source directly, in the detail and the location', async () => {
    const port = await closedPort();
    // Not through the schema (which refuses it): a GitSource built by code with a config of its own.
    const source = new GitSource(
      { ...gitSourceSchema.parse({ type: 'git', id: 'repo', url: `http://127.0.0.1:${port}/repo.git` }), url: `http://jo:hunter2-secret@127.0.0.1:${port}/repo.git` },
      { tmpDir: work, cloneRetryDelaysMs: [] },
    );
    const { outcomes } = await crawlAll(source);
    const o = outcomes[0]!;
    if (o.kind === 'document') throw new Error('expected a clone_failed report');
    expect(o.detail).not.toContain('hunter2-secret');
    expect(o.location).not.toContain('hunter2-secret');
    expect(o.detail).toContain(`http://***@127.0.0.1:${port}/repo.git`);
  });

  it('reports an empty repository (no commit) as clone_failed instead of failing the crawl', async () => {
    const bare = path.join(work, 'empty.git');
    execFileSync('git', ['init', '-q', '--bare', bare]);
    const url = pathToFileURL(bare).href;
    const { detail, ms } = await cloneFailure(url);
    expect(detail).toBe(`git clone of ${url}: the repository is empty (it has no commit to read)`);
    expect(ms).toBeLessThan(1900); // permanent: not retried
  });
});
