/**
 * The git source under the network policy, with real git against git's own smart HTTP server (`git http-backend`
 * behind a node server on 127.0.0.1). A refused remote is never contacted; an allowed host name is cloned from the
 * address the policy checked (git is pinned to it: the name is known only to the test's resolver, not to DNS); git
 * follows no redirect.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CrawlOutcome, createSource } from '../../../lib/crawl';
import { NetworkPolicy, type Resolver } from '../../../lib/security/network';
import { type GitHttpServer, makeBareRepo, startGitHttpServer } from '../../helpers/git-http-server';

let work: string;
let server: GitHttpServer;
let port: number;
const hits: string[] = [];

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-net-git-'));
  makeBareRepo(work, 'repo', { 'README.md': '# Pinned\n\nCloned from the address the policy checked.\n' });
  server = await startGitHttpServer(work, {
    intercept: (req, res) => {
      hits.push(req.url ?? '');
      const url = new URL(req.url ?? '/', 'http://x');
      if (!url.pathname.startsWith('/moved/')) return false;
      res.writeHead(301, { location: url.pathname.slice('/moved'.length) + url.search }).end();
      return true;
    },
  });
  port = server.port;
});
afterAll(async () => {
  await server?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

const resolver: Resolver = async (host) => {
  const table: Record<string, string> = { 'git.example': '127.0.0.1', 'intranet.example': '10.1.2.3' };
  if (!table[host]) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return [{ address: table[host]!, family: 4 }];
};

async function clone(url: string, allow: string): Promise<CrawlOutcome[]> {
  const source = createSource({ type: 'git', id: 'repo', url }, { network: new NetworkPolicy(allow, { resolve: resolver }), git: { tmpDir: work, cloneRetryDelaysMs: [] } });
  const out: CrawlOutcome[] = [];
  for await (const o of source.crawl()) out.push(o);
  return out;
}

function onlyFailure(outcomes: CrawlOutcome[]) {
  expect(outcomes).toHaveLength(1);
  const o = outcomes[0]!;
  if (o.kind === 'document') throw new Error(`expected a failure, got ${o.doc.location}`);
  return o;
}

describe('git source: network policy', () => {
  it('refuses a loopback remote without the allow-list, before git runs (the server sees nothing)', async () => {
    const before = hits.length;
    const o = onlyFailure(await clone(`http://127.0.0.1:${port}/repo.git`, ''));
    expect(o).toMatchObject({ kind: 'failed', reason: 'network_refused', listing: true });
    expect(o.detail).toMatch(new RegExp(`^git clone of http://127\\.0\\.0\\.1:${port}/repo\\.git refused: refused to connect to 127\\.0\\.0\\.1: .*127\\.0\\.0\\.0/8 \\(loopback\\).*TWINFLOW_ALLOW_NETWORKS=loopback`));
    expect(hits.length).toBe(before);
  });

  it('refuses a host name that resolves to a private address, and an ssh remote on loopback', async () => {
    const o = onlyFailure(await clone('https://intranet.example/team/repo.git', ''));
    expect(o).toMatchObject({ reason: 'network_refused' });
    expect(o.detail).toContain('refused to connect to intranet.example at 10.1.2.3');
    expect(onlyFailure(await clone('git@127.0.0.1:team/repo.git', 'private'))).toMatchObject({ reason: 'network_refused' });
  });

  it('clones from the checked address when allowed: git is pinned to it (the name exists only for the policy’s resolver)', async () => {
    const out = await clone(`http://git.example:${port}/repo.git`, 'loopback');
    const docs = out.flatMap((o) => (o.kind === 'document' ? [o.doc] : []));
    expect(docs.map((d) => d.path)).toEqual(['README.md']);
    expect(docs[0]!.body).toContain('Cloned from the address the policy checked.');
  });

  it('does not follow a redirect (its target would not be checked), and says so', async () => {
    const o = onlyFailure(await clone(`http://127.0.0.1:${port}/moved/repo.git`, 'loopback'));
    expect(o).toMatchObject({ reason: 'clone_failed' });
    expect(o.detail).toContain('the server answered with a redirect, which this worker does not follow');
    expect(hits.filter((h) => h.startsWith('/repo.git')).length).toBeGreaterThan(0); // from the pinned clone above
    expect(hits.some((h) => h.startsWith('/moved/repo.git'))).toBe(true);
  });
});
