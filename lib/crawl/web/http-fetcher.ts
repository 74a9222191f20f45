/**
 * A polite HTTP client for crawling: per-host concurrency and request rate, robots.txt, manual redirects with a limit
 * and loop detection, retries with backoff on 429/5xx/network errors (honouring Retry-After), a timeout per request
 * and a body size limit enforced while streaming. Failures come back as values with a CrawlReason, never as throws;
 * only the caller's abort signal throws.
 *
 * Every connection, redirect hops and robots.txt included, goes through the worker's network policy
 * (lib/security/net-fetch.ts): an address it refuses (loopback, private, metadata... unless TWINFLOW_ALLOW_NETWORKS
 * allows it) fails the page with reason `network_refused`, at once, without retries.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import robotsParser from 'robots-parser';
import { networkPolicyFromEnv, policyFetch } from '../../security/net-fetch';
import { findNetworkRefusal, type NetworkPolicy } from '../../security/network';
import type { RetrySettings } from '../../schemas/sources';
import { retry, retryAfterFromHeaders, sleep as defaultSleep } from '../../retry';
import { charsetOf, decodeText, mimeOf } from '../text-decoding';
import type { CrawlReason } from '../types';

export interface FetcherSettings {
  userAgent: string;
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  perHostConcurrency: number;
  perHostRps: number;
  respectRobots: boolean;
  retry: RetrySettings;
}

export interface FetcherDeps {
  /** Which addresses may be connected to (default: this process's TWINFLOW_ALLOW_NETWORKS). */
  network?: NetworkPolicy;
  /** Replaces the policy's fetch altogether (the policy is then not applied). */
  fetch?: typeof fetch;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

export interface FetchSuccess {
  ok: true;
  /** The URL finally answered, after redirects. */
  url: string;
  status: number;
  /** Media type, lower-cased, without parameters ("" when the server sent none). */
  mime: string;
  charset?: string;
  bytes: Uint8Array;
  /** URLs redirected through, in order (empty without redirects). */
  redirects: string[];
  headers: Headers;
}

export interface FetchFailure {
  ok: false;
  url: string;
  reason: CrawlReason;
  detail: string;
  status?: number;
}

export type FetchResult = FetchSuccess | FetchFailure;

export interface GetOptions {
  signal?: AbortSignal;
  /** Which media types to download; others are answered 'non_html' without reading the body. Default: all. */
  accept?: (mime: string) => boolean;
  /** Check robots.txt (default: the fetcher's respectRobots). */
  robots?: boolean;
  maxBytes?: number;
  /** Sent as the Accept header. */
  acceptHeader?: string;
}

/** One request, no redirect following. */
type Hop =
  | { t: 'redirect'; status: number; location: string | null }
  | { t: 'body'; status: number; headers: Headers; mime: string; bytes: Uint8Array }
  | { t: 'rejected'; status: number; mime: string }
  | { t: 'status'; status: number; headers: Headers }
  /** `permanent`: another attempt gets the same answer (a certificate the crawler does not trust). */
  | { t: 'error'; reason: 'timeout' | 'network_error' | 'too_large' | 'network_refused'; detail: string; permanent?: boolean };

interface HostState {
  limit: LimitFunction;
  /** Earliest time the next request may start. */
  nextAt: number;
  intervalMs: number;
}

type RobotsRules = { isAllowed(url: string, ua?: string): boolean | undefined; getCrawlDelay(ua?: string): number | undefined };
type RobotsVerdict =
  | { rules: RobotsRules }
  | { all: 'allow' }
  | { all: 'unavailable'; why: string }
  /** The host itself could not be reached (DNS, refused, TLS, timeout): the page fails with that reason. */
  | { all: 'unreachable'; reason: 'network_error' | 'timeout' | 'network_refused'; why: string };

const ROBOTS_MAX_BYTES = 512 * 1024;
const MAX_CRAWL_DELAY_MS = 60_000;

export class HttpFetcher {
  private readonly hosts = new Map<string, HostState>();
  private readonly robots = new Map<string, Promise<RobotsVerdict>>();
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  /** The product token robots.txt groups are matched against ("twinflow" in "twinflow/0.1 (+...)"). */
  private readonly robotsAgent: string;

  constructor(
    readonly settings: FetcherSettings,
    deps: FetcherDeps = {},
  ) {
    this.fetchImpl = deps.fetch ?? policyFetch(deps.network ?? networkPolicyFromEnv());
    this.sleep = deps.sleep ?? defaultSleep;
    this.random = deps.random ?? Math.random;
    this.now = deps.now ?? Date.now;
    this.robotsAgent = settings.userAgent.split(/[/\s]/)[0] || settings.userAgent;
  }

  /** GET with redirects, robots.txt and retries. */
  async get(url: string, opts: GetOptions = {}): Promise<FetchResult> {
    const checkRobots = opts.robots ?? this.settings.respectRobots;
    const chain: string[] = [];
    let current: URL;
    try {
      current = new URL(url);
      current.hash = '';
    } catch {
      return { ok: false, url, reason: 'invalid_url', detail: `not a URL: ${url}` };
    }
    for (;;) {
      if (current.protocol !== 'http:' && current.protocol !== 'https:') {
        return { ok: false, url: current.href, reason: 'invalid_url', detail: `not an http(s) URL: ${current.href}` };
      }
      chain.push(current.href);
      if (checkRobots) {
        const denied = await this.robotsDenial(current, opts.signal);
        if (denied) return { ok: false, url: current.href, reason: denied.reason, detail: `${redirectedVia(denied.reason, chain)}${denied.detail}` };
      }
      const hop = await this.withRetries(current, opts);
      switch (hop.t) {
        case 'redirect': {
          if (!hop.location) return { ok: false, url: current.href, reason: 'http_error', status: hop.status, detail: `HTTP ${hop.status} without a Location header` };
          let next: URL;
          try {
            next = new URL(hop.location, current);
            next.hash = '';
          } catch {
            return { ok: false, url: current.href, reason: 'http_error', status: hop.status, detail: `HTTP ${hop.status} to an invalid Location: ${hop.location}` };
          }
          if (chain.includes(next.href)) {
            return { ok: false, url: chain[0]!, reason: 'redirect_loop', status: hop.status, detail: `redirect loop: ${[...chain, next.href].join(' -> ')}` };
          }
          if (chain.length > this.settings.maxRedirects) {
            return { ok: false, url: chain[0]!, reason: 'too_many_redirects', status: hop.status, detail: `more than ${this.settings.maxRedirects} redirects: ${[...chain, next.href].join(' -> ')}` };
          }
          current = next;
          continue;
        }
        case 'body':
          return {
            ok: true,
            url: current.href,
            status: hop.status,
            mime: hop.mime,
            charset: charsetOf(hop.headers.get('content-type')),
            bytes: hop.bytes,
            redirects: chain.slice(0, -1),
            headers: hop.headers,
          };
        case 'rejected':
          return { ok: false, url: current.href, reason: 'non_html', status: hop.status, detail: `content type ${hop.mime || '(none)'} is not a document type` };
        case 'status': {
          const reason: CrawlReason = hop.status === 404 || hop.status === 410 ? 'not_found' : 'http_error';
          const retried = isRetryableStatus(hop.status) ? ` after ${this.settings.retry.attempts} attempts` : '';
          return { ok: false, url: current.href, reason, status: hop.status, detail: `HTTP ${hop.status}${retried}` };
        }
        case 'error':
          return { ok: false, url: current.href, reason: hop.reason, detail: `${redirectedVia(hop.reason, chain)}${hop.detail}` };
      }
    }
  }

  private async withRetries(url: URL, opts: GetOptions): Promise<Hop> {
    return retry(() => this.hostState(url.host).limit(() => this.hop(url, opts)), {
      policy: this.settings.retry,
      // A failure comes back as a Hop value; the last one is returned as it is once the attempts are spent.
      shouldRetry: (o) => o.ok && ((o.value.t === 'status' && isRetryableStatus(o.value.status)) || (o.value.t === 'error' && o.value.reason === 'network_error' && !o.value.permanent)),
      retryAfterMs: (o) => (o.ok && o.value.t === 'status' && (o.value.status === 429 || o.value.status === 503) ? retryAfterFromHeaders(o.value.headers, this.now()) : undefined),
      signal: opts.signal,
      random: this.random,
      sleep: this.sleep,
    });
  }

  /** One request under the host's concurrency slot, after its rate-limit slot. */
  private async hop(url: URL, opts: GetOptions): Promise<Hop> {
    await this.waitForRateSlot(url.host, opts.signal);
    const maxBytes = opts.maxBytes ?? this.settings.maxBytes;
    const timeout = AbortSignal.timeout(this.settings.timeoutMs);
    const local = new AbortController(); // to drop the connection when the body is too large
    const signal = AbortSignal.any([timeout, local.signal, ...(opts.signal ? [opts.signal] : [])]);
    try {
      const res = await this.fetchImpl(url, {
        redirect: 'manual',
        signal,
        headers: {
          'user-agent': this.settings.userAgent,
          accept: opts.acceptHeader ?? 'text/html,application/xhtml+xml,text/markdown;q=0.9,text/plain;q=0.8,*/*;q=0.5',
        },
      });
      const discard = () => void res.body?.cancel().catch(() => undefined);
      if (res.status >= 300 && res.status < 400 && res.status !== 304) {
        discard();
        return { t: 'redirect', status: res.status, location: res.headers.get('location') };
      }
      if (res.status < 200 || res.status >= 300) {
        discard();
        return { t: 'status', status: res.status, headers: res.headers };
      }
      const mime = mimeOf(res.headers.get('content-type'));
      if (opts.accept && !opts.accept(mime)) {
        discard();
        return { t: 'rejected', status: res.status, mime };
      }
      const declared = Number(res.headers.get('content-length'));
      if (Number.isFinite(declared) && declared > maxBytes) {
        local.abort();
        return { t: 'error', reason: 'too_large', detail: `Content-Length ${declared} bytes is over the limit of ${maxBytes}` };
      }
      const bytes = await readLimited(res, maxBytes);
      if (!bytes) {
        local.abort();
        // fetch() decodes Content-Encoding as it reads, so the limit holds for what the body inflates to (a gzip bomb).
        const encoding = res.headers.get('content-encoding');
        const decoded = encoding && encoding !== 'identity' ? ` once decoded (Content-Encoding: ${encoding})` : '';
        return { t: 'error', reason: 'too_large', detail: `body is over the limit of ${maxBytes} bytes${decoded} (stopped reading)` };
      }
      return { t: 'body', status: res.status, headers: res.headers, mime, bytes };
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (timeout.aborted) return { t: 'error', reason: 'timeout', detail: `no complete response within ${this.settings.timeoutMs} ms` };
      const refused = findNetworkRefusal(err);
      if (refused) return { t: 'error', reason: 'network_refused', detail: refused.message, permanent: true };
      return { t: 'error', reason: 'network_error', ...describeNetworkError(err) };
    }
  }

  private hostState(host: string): HostState {
    let state = this.hosts.get(host);
    if (!state) {
      state = { limit: pLimit(this.settings.perHostConcurrency), nextAt: 0, intervalMs: 1000 / this.settings.perHostRps };
      this.hosts.set(host, state);
    }
    return state;
  }

  /** Spaces request starts on a host at least intervalMs apart (reserving the slot before waiting for it). */
  private async waitForRateSlot(host: string, signal?: AbortSignal): Promise<void> {
    const state = this.hostState(host);
    const now = this.now();
    const at = Math.max(now, state.nextAt);
    state.nextAt = at + state.intervalMs;
    await this.sleep(at - now, signal);
  }

  /** Why robots.txt forbids this URL (its rules, or an unreadable robots.txt), or undefined when it is allowed. */
  private async robotsDenial(url: URL, signal?: AbortSignal): Promise<{ reason: CrawlReason; detail: string } | undefined> {
    let verdict = this.robots.get(url.origin);
    if (!verdict) {
      verdict = this.loadRobots(url, signal);
      this.robots.set(url.origin, verdict);
      // A failed load (e.g. the crawl was aborted) must not be cached for a later call.
      verdict.catch(() => this.robots.delete(url.origin));
    }
    const v = await verdict;
    if ('all' in v) {
      if (v.all === 'unreachable') return { reason: v.reason, detail: v.why };
      return v.all === 'unavailable' ? { reason: 'robots_unavailable', detail: v.why } : undefined;
    }
    return v.rules.isAllowed(url.href, this.robotsAgent) === false ? { reason: 'robots_disallowed', detail: `disallowed by ${url.origin}/robots.txt` } : undefined;
  }

  private async loadRobots(url: URL, signal?: AbortSignal): Promise<RobotsVerdict> {
    const robotsUrl = `${url.origin}/robots.txt`;
    const res = await this.get(robotsUrl, { signal, robots: false, maxBytes: ROBOTS_MAX_BYTES, acceptHeader: 'text/plain,*/*;q=0.5' });
    if (res.ok) {
      const rules = robotsParser(robotsUrl, decodeText(res.bytes, { headerCharset: res.charset, sniffDeclaration: false }).text) as RobotsRules;
      const delay = rules.getCrawlDelay(this.robotsAgent);
      if (delay && delay > 0) {
        const state = this.hostState(url.host);
        state.intervalMs = Math.max(state.intervalMs, Math.min(delay * 1000, MAX_CRAWL_DELAY_MS));
      }
      return { rules };
    }
    // RFC 9309: a robots.txt that is absent (4xx) allows everything; one that cannot be reached (5xx, network)
    // means the crawler must assume everything is disallowed. 429 is the site asking us to slow down, not saying
    // that it has no robots.txt: read as unreachable, as the major crawlers do.
    if (res.status !== undefined && res.status >= 400 && res.status < 500 && res.status !== 429) return { all: 'allow' };
    if (res.reason === 'too_large') return { all: 'allow' };
    // Nothing answered at all (no such host, connection refused, TLS failure, timeout): that is the page's failure
    // too, and is reported as what it is rather than as a robots.txt problem.
    // The network policy refuses the host: the page fails with that reason, in the policy's own words.
    if (res.reason === 'network_refused') return { all: 'unreachable', reason: res.reason, why: res.detail };
    if (res.reason === 'network_error' || res.reason === 'timeout') {
      return { all: 'unreachable', reason: res.reason, why: `cannot reach ${url.host}: ${res.detail} (while reading ${robotsUrl}; the page itself was not requested)` };
    }
    return { all: 'unavailable', why: `${robotsUrl} could not be read (${res.detail}); RFC 9309 says to assume crawling is disallowed for now` };
  }
}

/** 429 and 5xx are worth another try; other statuses (408 and 409 included) are the site's answer about the page. */
function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/** A refusal after redirects says where they led: every hop is checked, and the last one was refused. */
function redirectedVia(reason: CrawlReason, chain: string[]): string {
  return reason === 'network_refused' && chain.length > 1 ? `redirected ${chain.join(' -> ')}; ` : '';
}

/** The body, or undefined as soon as it grows past maxBytes (the rest is never read). */
async function readLimited(res: Response, maxBytes: number): Promise<Uint8Array | undefined> {
  if (!res.body) return new Uint8Array();
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** OpenSSL's verification codes and Node's TLS errors: the certificate is not trusted, and will not be next time. */
const TLS_CERT_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|HOSTNAME|ALTNAME/;

interface NetworkCause {
  code?: string;
  message?: string;
  /** Happy Eyeballs (several addresses tried) reports one error per address. */
  errors?: NetworkCause[];
}

/**
 * What went wrong under fetch()'s bare "fetch failed": the system error that undici puts in `cause`, with its code,
 * e.g. "fetch failed: getaddrinfo ENOTFOUND example.invalid", "fetch failed: connect ECONNREFUSED 127.0.0.1:8080" or
 * "fetch failed: TLS certificate problem: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)".
 */
function describeNetworkError(err: unknown): { detail: string; permanent: boolean } {
  const e = err as { message?: string; cause?: NetworkCause };
  let cause = e?.cause;
  if (!cause?.message && cause?.errors?.length) cause = cause.errors[0];
  const head = e?.message ?? String(err);
  if (!cause || (!cause.code && !cause.message)) return { detail: head, permanent: false };
  const code = cause.code ?? '';
  const tls = TLS_CERT_ERROR.test(code);
  const message = (cause.message ?? code).replace(/\s+/g, ' ').trim();
  const what = tls ? `TLS certificate problem: ${message}` : message;
  return { detail: `${head}: ${what}${code && !message.includes(code) ? ` (${code})` : ''}`, permanent: tls };
}
