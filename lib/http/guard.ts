/**
 * What every HTTP surface twinflow exposes (`serve`, `webhook serve`, `codec-server`) does the same way:
 *
 * - refuses to listen beyond loopback without a token: an address other machines can reach needs auth;
 * - compares bearer tokens in constant time (sha256 of both sides, then timingSafeEqual: no length or prefix leak);
 * - limits requests per client address (hono-rate-limiter, a fixed window per minute), answering 429 in JSON;
 * - answers errors as JSON with a message and never a stack trace (the stack goes to the server's log).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { rateLimiter } from 'hono-rate-limiter';
import { InputValidationError } from '../schemas/validate';

/** Listening beyond loopback without a token configured. The message names the setting (a usage error: exit 2). */
export class UnprotectedListenError extends InputValidationError {
  override name = 'UnprotectedListenError';
}

/** True for addresses only this machine can reach: localhost, 127.0.0.0/8, ::1 (also IPv4-mapped). */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  if (net.isIPv4(v4)) return v4.startsWith('127.');
  if (net.isIPv6(h)) return normalizeV6(h) === '0:0:0:0:0:0:0:1';
  // Any other name (a host name, 0.0.0.0, ::) may be reachable from elsewhere.
  return false;
}

function normalizeV6(h: string): string {
  const [head, tail = ''] = h.split('::');
  const a = head ? head.split(':') : [];
  const b = tail ? tail.split(':') : [];
  const fill = h.includes('::') ? Array(8 - a.length - b.length).fill('0') : [];
  return [...a, ...fill, ...b].map((x) => parseInt(x || '0', 16).toString(16)).join(':');
}

/** Throws unless the host is loopback or a token is set. `tokenSetting` is the variable to set, e.g. TWINFLOW_API_TOKEN. */
export function assertListenAllowed(host: string, token: string | undefined, what: string, tokenSetting: string): void {
  if (token || isLoopbackHost(host)) return;
  throw new UnprotectedListenError(
    `${what}: refusing to listen on ${host} without a token: other machines could reach it. Set ${tokenSetting} (16+ characters; clients send "Authorization: Bearer <token>"), or listen on 127.0.0.1`,
  );
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time check of an Authorization header against "Bearer <token>". */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (!header) return false;
  return timingSafeEqual(digest(header), digest(`Bearer ${token}`));
}

/** Middleware: 401 in JSON unless the request carries "Authorization: Bearer <token>". */
export function requireBearer(token: string, setting: string): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization');
    // Not the Bearer scheme at all: a malformed request, not a wrong token (RFC 6750).
    if (header && !/^Bearer +\S+$/i.test(header)) return c.json({ error: 'malformed Authorization header: expected "Bearer <token>"' }, 400);
    if (!bearerMatches(header, token)) {
      c.header('www-authenticate', 'Bearer');
      return c.json({ error: header ? 'invalid bearer token' : `missing bearer token: send "Authorization: Bearer <${setting}>"` }, 401);
    }
    await next();
  };
}

/** The address the request came from (the TCP peer; a proxy in front should set its own limits). */
export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    // Not served by @hono/node-server (app.request in a test): one shared bucket.
    return 'unknown';
  }
}

/** Middleware: at most `perMinute` requests per client address per minute; then 429 with Retry-After. */
export function rateLimitPerClient(perMinute: number, setting: string): MiddlewareHandler {
  return rateLimiter({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-6',
    keyGenerator: clientAddress,
    message: { error: `too many requests: at most ${perMinute} a minute from one address (${setting})` },
  });
}

/**
 * Errors as JSON without stack traces: HTTP exceptions (401/413 from middleware) keep their response; anything else is
 * `status(err)` (default 500) with the message only, and the stack goes to `log`.
 */
export function jsonErrors(app: Hono, log: (line: string) => void, status: (err: Error) => 400 | 404 | 500 = () => 500, prefix = ''): void {
  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    const code = status(err);
    if (code === 500) log(`error: ${err.stack ?? String(err)}`);
    return c.json({ error: `${prefix}${err.message}` }, code);
  });
}
