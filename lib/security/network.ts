/**
 * What a worker lets workflow input connect to. Anyone who can start a workflow chooses the URLs a worker fetches
 * (web pages, git remotes, an LLM endpoint's base URL), and the worker connects from its own network position: to
 * its loopback services, the private network, the cloud's metadata endpoint. So addresses in those ranges are
 * refused unless the worker's own configuration allows them (TWINFLOW_ALLOW_NETWORKS), never because an input asks.
 *
 * The check is on addresses, after DNS resolution: lib/security/net-fetch.ts applies it to the address each
 * connection is actually made to (no DNS-rebinding window), lib/crawl/git.ts pins git's connection to the address
 * it checked. This module is the policy itself: the blocked ranges, the allow-list, and the refusal.
 */
import dns from 'node:dns';
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Keywords of TWINFLOW_ALLOW_NETWORKS, each allowing the ranges tagged with it below. */
export const NETWORK_KEYWORDS = ['loopback', 'private', 'link-local', 'cgnat', 'metadata'] as const;
export type NetworkKeyword = (typeof NETWORK_KEYWORDS)[number];

interface BlockedRange {
  cidr: string;
  name: string;
  keyword?: NetworkKeyword;
  range: [Address, number];
}

function ranges(list: Array<[cidr: string, name: string, keyword?: NetworkKeyword]>): BlockedRange[] {
  return list.map(([cidr, name, keyword]) => ({ cidr, name, keyword, range: ipaddr.parseCIDR(cidr) }));
}

/**
 * Cloud instance metadata endpoints: they hand out the machine's credentials to any local HTTP client. Checked
 * first, and allowed only by the keyword `metadata`, the exact address, or a host name entry: a broad CIDR such as
 * 169.254.0.0/16 or 0.0.0.0/0 in the allow-list does not open them by accident.
 */
const METADATA = ranges([
  ['169.254.169.254/32', 'cloud metadata endpoint (AWS, GCP, Azure, OpenStack)', 'metadata'],
  ['169.254.170.2/32', 'cloud metadata endpoint (AWS ECS task credentials)', 'metadata'],
  ['100.100.100.200/32', 'cloud metadata endpoint (Alibaba Cloud)', 'metadata'],
  ['192.0.0.192/32', 'cloud metadata endpoint (Oracle Cloud)', 'metadata'],
  ['fd00:ec2::254/128', 'cloud metadata endpoint (AWS, IPv6)', 'metadata'],
]);

/** Addresses a worker does not connect to for workflow input. Public unicast is everything not listed. */
const BLOCKED = ranges([
  ['0.0.0.0/8', 'unspecified ("this network"; 0.0.0.0 reaches the worker itself)'],
  ['10.0.0.0/8', 'private network (RFC 1918)', 'private'],
  ['100.64.0.0/10', 'shared address space (carrier-grade NAT, RFC 6598)', 'cgnat'],
  ['127.0.0.0/8', 'loopback', 'loopback'],
  ['169.254.0.0/16', 'link-local', 'link-local'],
  ['172.16.0.0/12', 'private network (RFC 1918)', 'private'],
  ['192.0.0.0/24', 'IETF protocol assignments'],
  ['192.168.0.0/16', 'private network (RFC 1918)', 'private'],
  ['198.18.0.0/15', 'benchmarking network (RFC 2544)'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['240.0.0.0/4', 'reserved'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback', 'loopback'],
  ['fc00::/7', 'unique local address (IPv6 ULA)', 'private'],
  ['fe80::/10', 'link-local', 'link-local'],
  ['fec0::/10', 'site-local (deprecated)', 'private'],
  ['ff00::/8', 'multicast'],
  ['64:ff9b:1::/48', 'local-use NAT64'],
]);

/**
 * IPv6 forms that carry an IPv4 address a gateway or the kernel connects to: judged by that IPv4 address, so
 * ::ffff:127.0.0.1 is loopback. [range, byte offset of the IPv4 address].
 */
const EMBEDDED_IPV4: Array<{ range: [Address, number]; offset: number; form: string }> = [
  { range: ipaddr.parseCIDR('::ffff:0:0/96'), offset: 12, form: 'IPv4-mapped' },
  { range: ipaddr.parseCIDR('::/96'), offset: 12, form: 'IPv4-compatible' },
  { range: ipaddr.parseCIDR('64:ff9b::/96'), offset: 12, form: 'NAT64' },
  { range: ipaddr.parseCIDR('2002::/16'), offset: 2, form: '6to4' },
];

const UNSPECIFIED_OR_LOOPBACK_V6 = ipaddr.parseCIDR('::/127');

export type AllowEntry =
  | { kind: 'keyword'; text: string; keyword: NetworkKeyword }
  | { kind: 'cidr'; text: string; range: [Address, number] }
  /** A host name: connections to it are allowed whatever it resolves to. `*.example.internal` allows subdomains. */
  | { kind: 'host'; text: string; host: string; subdomains: boolean };

const HOST_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * TWINFLOW_ALLOW_NETWORKS: comma-separated keywords (loopback, private, link-local, cgnat, metadata), CIDRs
 * (10.1.0.0/16, fd12::/64), single addresses (127.0.0.2), or host names (git.internal, *.corp.example). Throws an
 * Error naming the bad entry (lib/config.ts adds the variable's name).
 */
export function parseAllowList(value: string): AllowEntry[] {
  const entries: AllowEntry[] = [];
  for (const raw of value.split(',')) {
    const text = raw.trim().toLowerCase();
    if (!text) continue;
    if ((NETWORK_KEYWORDS as readonly string[]).includes(text)) {
      entries.push({ kind: 'keyword', text, keyword: text as NetworkKeyword });
    } else if (text.includes('/')) {
      if (!ipaddr.isValidCIDR(text)) throw new Error(`"${raw.trim()}" is not a valid CIDR (expected e.g. 10.0.0.0/8 or fd00::/8)`);
      entries.push({ kind: 'cidr', text, range: ipaddr.parseCIDR(text) });
    } else if (ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text.replace(/^\[|\]$/g, ''))) {
      const addr = ipaddr.parse(text.replace(/^\[|\]$/g, ''));
      entries.push({ kind: 'cidr', text, range: [addr, addr.kind() === 'ipv4' ? 32 : 128] });
    } else if (HOST_NAME.test(text) && !/^[\d.]+$/.test(text)) {
      const subdomains = text.startsWith('*.');
      entries.push({ kind: 'host', text, host: subdomains ? text.slice(2) : text, subdomains });
    } else {
      throw new Error(
        `"${raw.trim()}" is not a keyword (${NETWORK_KEYWORDS.join(', ')}), a CIDR, an IP address or a host name`,
      );
    }
  }
  return entries;
}

/** A connection the policy refuses. Never worth retrying: the same address is refused next time. */
export class NetworkRefusedError extends Error {
  override name = 'NetworkRefusedError';
  readonly code = 'ERR_NETWORK_REFUSED';
  readonly nonRetryable = true;
  constructor(
    readonly host: string,
    readonly address: string,
    /** The blocked range, e.g. "127.0.0.0/8 (loopback)". */
    readonly range: string,
    /** What to add to TWINFLOW_ALLOW_NETWORKS to allow it. */
    readonly allowWith: string,
  ) {
    const target = host && !address.startsWith(host) ? `${host} at ${address}` : address;
    super(
      `refused to connect to ${target}: the address is in ${range}, which workers do not reach for workflow input ` +
        `unless allowed; to allow it, set TWINFLOW_ALLOW_NETWORKS=${allowWith} (or add ${allowWith} to its list) in the worker's environment`,
    );
  }
}

/** The NetworkRefusedError in an error's cause chain (fetch wraps it in "fetch failed"), if any. */
export function findNetworkRefusal(err: unknown): NetworkRefusedError | undefined {
  for (let e = err, depth = 0; e && depth < 8; depth++) {
    if (e instanceof NetworkRefusedError) return e;
    const x = e as { cause?: unknown; errors?: unknown[]; code?: unknown };
    const inner = x.errors?.find((i) => findNetworkRefusal(i));
    if (inner) return findNetworkRefusal(inner);
    e = x.cause;
  }
  return undefined;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

/** The system resolver (getaddrinfo, as connections use: /etc/hosts included), every address. */
export const systemResolver: Resolver = async (host) =>
  (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/** Brackets off an IPv6 URL host ("[::1]" → "::1"), lower-cased, without a trailing dot. */
export function bareHost(host: string): string {
  return host.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
}

export class NetworkPolicy {
  readonly allow: readonly AllowEntry[];
  private readonly resolver: Resolver;

  constructor(allow: readonly AllowEntry[] | string = [], deps: { resolve?: Resolver } = {}) {
    this.allow = typeof allow === 'string' ? parseAllowList(allow) : allow;
    this.resolver = deps.resolve ?? systemResolver;
  }

  /** A host name entry of the allow-list names this host. */
  hostAllowed(host: string): boolean {
    const h = bareHost(host);
    return this.allow.some((e) => e.kind === 'host' && (h === e.host || (e.subdomains && h.endsWith(`.${e.host}`))));
  }

  /** Why connecting to `address` (reached through `host`) is refused, or undefined when it is allowed. */
  check(host: string, address: string): NetworkRefusedError | undefined {
    if (this.hostAllowed(host)) return undefined;
    const bare = bareHost(address);
    if (!ipaddr.isValid(bare)) return new NetworkRefusedError(host, bare, 'no valid IP address', 'a host name entry');
    const addr = ipaddr.parse(bare);
    const candidates: Array<{ addr: Address; form?: string }> = [{ addr }];
    if (addr.kind() === 'ipv6') {
      for (const e of EMBEDDED_IPV4) {
        // :: and ::1 are themselves (unspecified, loopback), not IPv4-compatible forms of 0.0.0.0 and 0.0.0.1.
        if (addr.match(e.range) && !addr.match(UNSPECIFIED_OR_LOOPBACK_V6)) {
          candidates.push({ addr: ipaddr.fromByteArray((addr as ipaddr.IPv6).toByteArray().slice(e.offset, e.offset + 4)), form: e.form });
          break;
        }
      }
    }
    for (const { addr: a, form } of candidates) {
      const hit = findRange(METADATA, a) ?? findRange(BLOCKED, a);
      if (!hit || this.allows(a, hit)) continue;
      const inner = form ? ` (${form} ${a.toString()})` : '';
      const exact = a.kind() === 'ipv4' ? `${a.toString()}/32` : `${a.toString()}/128`;
      return new NetworkRefusedError(host, `${addr.toString()}${inner}`, `${hit.cidr} (${hit.name})`, hit.keyword ?? exact);
    }
    return undefined;
  }

  /**
   * The host's addresses that may be connected to (a literal IP address is its own only address). Throws the
   * refusal when every address is refused, and the resolver's error when the name does not resolve.
   */
  async resolve(host: string): Promise<ResolvedAddress[]> {
    const h = bareHost(host);
    const all = ipaddr.isValid(h) && (ipaddr.IPv4.isValidFourPartDecimal(h) || h.includes(':'))
      ? [{ address: h, family: h.includes(':') ? 6 : 4 } as ResolvedAddress]
      : await this.resolver(h);
    return this.filter(h, all);
  }

  /** The allowed ones of a host's addresses; throws the first refusal when none is allowed. */
  filter(host: string, addresses: ResolvedAddress[]): ResolvedAddress[] {
    let refusal: NetworkRefusedError | undefined;
    const allowed = addresses.filter((a) => {
      const r = this.check(host, a.address);
      refusal ??= r;
      return !r;
    });
    if (allowed.length === 0) throw refusal ?? new Error(`${host} resolves to no address`);
    return allowed;
  }

  private allows(addr: Address, hit: BlockedRange): boolean {
    return this.allow.some((e) => {
      if (e.kind === 'keyword') return e.keyword === hit.keyword;
      if (e.kind !== 'cidr' || e.range[0].kind() !== addr.kind() || !addr.match(e.range)) return false;
      // A metadata endpoint only by its exact address (see METADATA).
      return hit.keyword !== 'metadata' || e.range[1] === (addr.kind() === 'ipv4' ? 32 : 128);
    });
  }
}

function findRange(list: BlockedRange[], addr: Address): BlockedRange | undefined {
  return list.find((r) => r.range[0].kind() === addr.kind() && addr.match(r.range));
}

const byAllowList = new Map<string, NetworkPolicy>();

/**
 * The policy for a worker's configured allow-list (config.network.allow), one instance per distinct list, so its
 * connection pool (net-fetch.ts) is shared by every activity of the worker.
 */
export function networkPolicyFor(allow: readonly string[]): NetworkPolicy {
  const key = allow.join(',');
  let policy = byAllowList.get(key);
  if (!policy) {
    policy = new NetworkPolicy(key);
    byAllowList.set(key, policy);
  }
  return policy;
}

/** A configuration whose allow-list also holds `entries` (for a process that allows what it serves itself: the demo). */
export function withAllowedNetworks<T extends { network: { allow: readonly string[] } }>(config: T, entries: readonly string[]): T {
  const extra = parseAllowList(entries.join(',')).map((e) => e.text);
  return { ...config, network: { ...config.network, allow: [...new Set([...config.network.allow, ...extra])] } };
}
