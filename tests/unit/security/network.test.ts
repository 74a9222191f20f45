/**
 * The worker's network policy (lib/security/network.ts, net-fetch.ts) against real servers on 127.0.0.1 and
 * 127.0.0.2: the crawler, the LLM client and the schemas. Without an allow-list a loopback URL, a redirect to
 * loopback and a host name that resolves to a private address are refused with the reason and the setting to change,
 * and the refused server sees no request at all; with the allow-list the same fetches work.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../lib/config';
import { type CrawlOutcome, createSource } from '../../../lib/crawl';
import { GONE_REASONS } from '../../../lib/crawl/types';
import { chatClientForEndpoint, LlmError } from '../../../lib/llm';
import { sourceConfigSchema } from '../../../lib/schemas/sources';
import { llmEndpointSchema } from '../../../lib/schemas/train';
import { policyFetch } from '../../../lib/security/net-fetch';
import { NetworkPolicy, NetworkRefusedError, parseAllowList, type Resolver } from '../../../lib/security/network';
import { startOpenAIChatServer } from '../../helpers/openai-chat-server';

interface Site {
  server: http.Server;
  base: string;
  /** Requests received, by path. */
  hits: string[];
}

async function startSite(host: string, handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Site> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, base: `http://${host}:${(server.address() as AddressInfo).port}`, hits };
}

const page = (title: string) => `<!doctype html><html><head><title>${title}</title></head><body><article><h1>${title}</h1><p>${'A paragraph of real text about the page. '.repeat(8)}</p></article></body></html>`;

let target: Site; // 127.0.0.1: the address the policy protects
let relay: Site; // 127.0.0.2: "public" in these tests, allowed by 127.0.0.2/32; redirects to target
beforeAll(async () => {
  target = await startSite('127.0.0.1', (req, res) => {
    if (req.url === '/robots.txt') return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html' }).end(page(`target ${req.url}`));
  });
  relay = await startSite('127.0.0.2', (req, res) => {
    if (req.url === '/robots.txt') return res.writeHead(404).end();
    if (req.url === '/moved') return res.writeHead(302, { location: `${target.base}/internal` }).end();
    res.writeHead(200, { 'content-type': 'text/html' }).end(page(`relay ${req.url}`));
  });
});
afterAll(async () => {
  await new Promise((r) => target?.server.close(r));
  await new Promise((r) => relay?.server.close(r));
});

async function crawl(urls: string[], network: NetworkPolicy): Promise<CrawlOutcome[]> {
  const source = createSource(
    { type: 'web', id: 'site', urls, perHostRps: 100, timeoutMs: 3000, retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 } },
    { network },
  );
  const out: CrawlOutcome[] = [];
  for await (const o of source.crawl()) out.push(o);
  return out;
}

/** A resolver that knows a few test names, and nothing else (no DNS leaves the machine). */
const testResolver: Resolver = async (host) => {
  const table: Record<string, string[]> = { 'intranet.example': ['10.1.2.3'], 'site.example': ['127.0.0.1'], 'mixed.example': ['10.0.0.9', '127.0.0.1'] };
  const found = table[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return found.map((address) => ({ address, family: 4 as const }));
};

describe('network policy: addresses', () => {
  const none = new NetworkPolicy('');
  it.each([
    ['127.0.0.1', '127.0.0.0/8 (loopback)', 'loopback'],
    ['10.20.30.40', '10.0.0.0/8 (private network (RFC 1918))', 'private'],
    ['172.16.5.4', '172.16.0.0/12', 'private'],
    ['192.168.1.1', '192.168.0.0/16', 'private'],
    ['169.254.10.10', '169.254.0.0/16 (link-local)', 'link-local'],
    ['100.64.0.1', '100.64.0.0/10', 'cgnat'],
    ['224.0.0.251', '224.0.0.0/4 (multicast)', '224.0.0.251/32'],
    ['255.255.255.255', 'broadcast', '255.255.255.255/32'],
    ['0.0.0.0', '0.0.0.0/8', '0.0.0.0/32'],
    ['169.254.169.254', 'cloud metadata endpoint', 'metadata'],
    ['fd00:ec2::254', 'cloud metadata endpoint (AWS, IPv6)', 'metadata'],
    ['::1', '::1/128 (loopback)', 'loopback'],
    ['fd12:3456::1', 'fc00::/7 (unique local address (IPv6 ULA))', 'private'],
    ['fe80::1', 'fe80::/10 (link-local)', 'link-local'],
    ['ff02::1', 'ff00::/8 (multicast)', 'ff02::1/128'],
    ['::', '::/128 (unspecified)', '::/128'],
    ['::ffff:127.0.0.1', '127.0.0.0/8 (loopback)', 'loopback'],
    ['::ffff:169.254.169.254', 'cloud metadata endpoint', 'metadata'],
    ['::ffff:10.0.0.1', '10.0.0.0/8', 'private'],
    ['64:ff9b::a00:1', '10.0.0.0/8', 'private'],
  ])('refuses %s: in %s, allowed by %s', (address, range, allowWith) => {
    const refused = none.check('', address);
    expect(refused).toBeInstanceOf(NetworkRefusedError);
    expect(refused!.range).toContain(range);
    expect(refused!.allowWith).toBe(allowWith);
    expect(refused!.message).toContain(`TWINFLOW_ALLOW_NETWORKS=${allowWith}`);
  });

  it('allows public addresses, with or without an allow-list', () => {
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:93.184.216.34']) expect(none.check('', a)).toBeUndefined();
  });

  it('opens exactly what the allow-list names; metadata endpoints only by keyword or exact address', () => {
    const p = new NetworkPolicy('loopback,10.1.0.0/16,169.254.0.0/16,git.internal,*.corp.example');
    expect(p.check('', '127.0.0.9')).toBeUndefined();
    expect(p.check('', '::ffff:127.0.0.1')).toBeUndefined();
    expect(p.check('', '::1')).toBeUndefined();
    expect(p.check('', '10.1.200.3')).toBeUndefined();
    expect(p.check('', '10.2.0.1')?.allowWith).toBe('private');
    expect(p.check('', '169.254.1.1')).toBeUndefined();
    expect(p.check('', '169.254.169.254')?.allowWith).toBe('metadata'); // not opened by 169.254.0.0/16
    expect(new NetworkPolicy('0.0.0.0/0').check('', '169.254.169.254')).toBeDefined();
    expect(new NetworkPolicy('169.254.169.254').check('', '169.254.169.254')).toBeUndefined();
    expect(new NetworkPolicy('metadata').check('', 'fd00:ec2::254')).toBeUndefined();
    // Host names: whatever they resolve to.
    expect(p.check('git.internal', '10.9.9.9')).toBeUndefined();
    expect(p.check('a.b.corp.example', '192.168.0.1')).toBeUndefined();
    expect(p.check('corp.example.evil', '192.168.0.1')).toBeDefined();
  });

  it('parses TWINFLOW_ALLOW_NETWORKS in the configuration, and names a bad entry and the variable', () => {
    expect(loadConfig({ TWINFLOW_ALLOW_NETWORKS: ' loopback, 10.0.0.0/8 ,Git.Internal' }).network.allow).toEqual(['loopback', '10.0.0.0/8', 'git.internal']);
    expect(loadConfig({}).network.allow).toEqual([]);
    for (const [value, why] of [
      ['10.0.0.0/33', /"10.0.0.0\/33" is not a valid CIDR/],
      ['localhostt!', /"localhostt!" is not a keyword \(loopback, private, link-local, cgnat, metadata\), a CIDR/],
    ] as const) {
      expect(() => loadConfig({ TWINFLOW_ALLOW_NETWORKS: value })).toThrow(ConfigError);
      expect(() => loadConfig({ TWINFLOW_ALLOW_NETWORKS: value })).toThrow(/^Invalid configuration: TWINFLOW_ALLOW_NETWORKS: /);
      expect(() => parseAllowList(value)).toThrow(why);
    }
  });

  it('is not a reason to delete: a refusal is a failure, never positive evidence that a document is gone', () => {
    expect(GONE_REASONS.has('network_refused')).toBe(false);
  });
});

describe('network policy: the crawler', () => {
  it('refuses a loopback URL without an allow-list, and the server sees no request', async () => {
    const before = target.hits.length;
    const [o] = await crawl([`${target.base}/page`], new NetworkPolicy(''));
    expect(o).toMatchObject({ kind: 'failed', reason: 'network_refused' });
    if (o!.kind === 'document') throw new Error('expected a refusal');
    expect(o!.detail).toBe(
      'refused to connect to 127.0.0.1: the address is in 127.0.0.0/8 (loopback), which workers do not reach for workflow input unless allowed; ' +
        "to allow it, set TWINFLOW_ALLOW_NETWORKS=loopback (or add loopback to its list) in the worker's environment",
    );
    expect(target.hits.length).toBe(before);
  });

  it('refuses a redirect to loopback from an allowed host, at the hop, without requesting it', async () => {
    const before = target.hits.length;
    const [o] = await crawl([`${relay.base}/moved`], new NetworkPolicy('127.0.0.2/32'));
    expect(o).toMatchObject({ kind: 'failed', reason: 'network_refused' });
    if (o!.kind === 'document') throw new Error('expected a refusal');
    expect(o!.detail).toContain(`redirected ${relay.base}/moved -> ${target.base}/internal; refused to connect to 127.0.0.1`);
    expect(relay.hits).toContain('/moved');
    expect(target.hits.length).toBe(before);
  });

  it('refuses a host name that resolves to a private address, before connecting', async () => {
    const network = new NetworkPolicy('', { resolve: testResolver });
    const [o] = await crawl(['http://intranet.example/wiki'], network);
    expect(o).toMatchObject({ kind: 'failed', reason: 'network_refused' });
    if (o!.kind === 'document') throw new Error('expected a refusal');
    expect(o!.detail).toContain('refused to connect to intranet.example at 10.1.2.3: the address is in 10.0.0.0/8 (private network (RFC 1918))');
    expect(o!.detail).toContain('TWINFLOW_ALLOW_NETWORKS=private');
  });

  it('connects to the address it checked: a name resolving to loopback is fetched only when loopback is allowed', async () => {
    const port = new URL(target.base).port;
    const refused = await crawl([`http://site.example:${port}/named`], new NetworkPolicy('', { resolve: testResolver }));
    expect(refused[0]).toMatchObject({ reason: 'network_refused' });
    expect(target.hits).not.toContain('/named');
    // Of a public-and-private answer only the allowed address is handed to the socket.
    const [o] = await crawl([`http://mixed.example:${port}/named`], new NetworkPolicy('loopback', { resolve: testResolver }));
    expect(o).toMatchObject({ kind: 'document' });
    expect(target.hits).toContain('/named');
  });

  it('fetches all of it with the allow-list (loopback), redirects included', async () => {
    const out = await crawl([`${target.base}/a`, `${relay.base}/moved`], new NetworkPolicy('loopback'));
    expect(out.map((o) => o.kind)).toEqual(['document', 'document']);
    expect(target.hits).toContain('/internal');
  });

  it('checks literal and IPv4-mapped addresses on every connection of the fetch', async () => {
    const f = policyFetch(new NetworkPolicy('127.0.0.2/32'));
    await expect(f(`http://[::ffff:127.0.0.1]:${new URL(target.base).port}/`)).rejects.toMatchObject({ cause: { code: 'ERR_NETWORK_REFUSED' } });
    expect((await f(`${relay.base}/ok`)).status).toBe(200);
  });
});

describe('network policy: LLM base URLs from input', () => {
  it('refuses a base URL from input on a refused address, at once and without retries; the worker’s own base URL is trusted', async () => {
    const server = await startOpenAIChatServer();
    try {
      const llm = { model: 'm', baseUrl: 'https://api.openai.com/v1' };
      const client = chatClientForEndpoint(llm, { model: 'm', baseUrl: server.baseUrl }, {}, new NetworkPolicy(''));
      await expect(client.checkNetwork()).rejects.toThrow(/endpoint http:\/\/127\.0\.0\.1:\d+\/v1 refused: refused to connect to 127\.0\.0\.1.*TWINFLOW_ALLOW_NETWORKS=loopback/);
      const err = await client.chat([{ role: 'user', content: 'x' }]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LlmError);
      expect((err as LlmError).retryable).toBe(false);
      expect((err as LlmError).message).toMatch(/refused: refused to connect to 127\.0\.0\.1/);
      expect(server.requests).toHaveLength(0);

      // Allowed by the worker's configuration: the same request goes through.
      const allowed = chatClientForEndpoint(llm, { model: 'm', baseUrl: server.baseUrl }, {}, new NetworkPolicy('loopback'));
      await allowed.checkNetwork();
      await allowed.chat([{ role: 'user', content: 'x' }]);
      expect(server.requests).toHaveLength(1);

      // LLM_BASE_URL is the worker's own configuration: not subject to the input policy.
      const own = chatClientForEndpoint({ model: 'm', baseUrl: server.baseUrl }, { model: 'm' }, {}, new NetworkPolicy(''));
      await own.chat([{ role: 'user', content: 'x' }]);
      expect(server.requests).toHaveLength(2);
    } finally {
      await server.close();
    }
  });
});

describe('credentials embedded in URLs are refused in workflow input', () => {
  const issue = (r: { success: boolean; error?: { issues: Array<{ message: string }> } }) => (r.success ? '' : r.error!.issues.map((i) => i.message).join('; '));
  it('web sources', () => {
    const r = sourceConfigSchema.safeParse({ type: 'web', id: 's', urls: ['https://jo:secret@example.com/page'] });
    expect(issue(r)).toMatch(/a URL with credentials \(user:secret@\) is refused in workflow input, which the workflow history keeps in plain text/);
    expect(sourceConfigSchema.safeParse({ type: 'web', id: 's', sitemaps: ['https://token@example.com/sitemap.xml'] }).success).toBe(false);
    expect(sourceConfigSchema.safeParse({ type: 'web', id: 's', urls: ['https://example.com/page'] }).success).toBe(true);
  });

  it('git sources: no token in an https URL, no password anywhere; ssh’s user name is fine', () => {
    for (const url of ['https://ghp_abc123@github.com/a/b.git', 'https://jo:pw@git.example/a/b.git', 'ssh://git:pw@git.example/a/b.git']) {
      expect(issue(sourceConfigSchema.safeParse({ type: 'git', id: 'g', url }))).toMatch(/git credential helper in the worker's git config/);
    }
    for (const url of ['ssh://git@git.example/a/b.git', 'git@github.com:a/b.git', 'https://github.com/a/b.git']) {
      expect(sourceConfigSchema.safeParse({ type: 'git', id: 'g', url }).success).toBe(true);
    }
  });

  it('LLM endpoints', () => {
    const r = llmEndpointSchema.safeParse({ model: 'm', baseUrl: 'https://user:sk-123@llm.example/v1' });
    expect(issue(r)).toMatch(/put the API key in an environment variable of the worker and name it in apiKeyEnv/);
    expect(llmEndpointSchema.safeParse({ model: 'm', baseUrl: 'https://llm.example/v1' }).success).toBe(true);
  });
});
