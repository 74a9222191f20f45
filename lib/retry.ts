/**
 * The one retry policy of every twinflow client (LLM chat, embeddings, re-ranker, crawler, git clone): a bounded
 * number of attempts, exponential backoff with full jitter, the server's Retry-After honoured (capped), and the
 * caller's AbortSignal respected while waiting. What is worth another attempt is each client's own predicate.
 */
import { setTimeout as delay } from 'node:timers/promises';

/** Every field is required: each client states its own defaults (crawler settings come validated from lib/schemas/sources.ts). */
export interface RetryPolicy {
  /** Attempts in all, the first included (1: no retry). */
  attempts: number;
  /** The backoff ceiling before retry n is baseDelayMs * 2^(n-1), capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest Retry-After honoured; a longer one is shortened to this (a client waiting an hour is rarely wanted). */
  maxRetryAfterMs: number;
}

/** What one attempt gave: the value it returned, or the error it threw. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface RetryOptions<T> {
  policy: RetryPolicy;
  /**
   * Whether this outcome is worth another attempt. A client that reports failures as values (the crawler) says so
   * for a value; when the attempts run out that value is returned as it is, an error is thrown.
   */
  shouldRetry: (outcome: Outcome<T>) => boolean;
  /** The wait the server asked for in this outcome (Retry-After), which replaces the backoff. */
  retryAfterMs?: (outcome: Outcome<T>) => number | undefined;
  /** Aborts the wait between attempts (rejecting with the signal's reason); an aborted call is never retried. */
  signal?: AbortSignal;
  random?: () => number;
  /** How to wait (default: `sleep`); tests and the crawler inject their own clock. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Runs `attempt` (given its number, 1 for the first) until it gives an outcome that is not worth retrying or the
 * policy's attempts are spent, waiting before each retry.
 */
export async function retry<T>(attempt: (n: number) => Promise<T>, o: RetryOptions<T>): Promise<T> {
  const wait = o.sleep ?? sleep;
  for (let n = 1; ; n++) {
    let outcome: Outcome<T>;
    try {
      outcome = { ok: true, value: await attempt(n) };
    } catch (error) {
      // The caller's own abort is final, whatever the attempt made of it.
      if (o.signal?.aborted) throw o.signal.reason ?? error;
      outcome = { ok: false, error };
    }
    if (n >= o.policy.attempts || !o.shouldRetry(outcome)) {
      if (outcome.ok) return outcome.value;
      throw outcome.error;
    }
    await wait(retryDelayMs(n, o.policy, o.retryAfterMs?.(outcome), o.random), o.signal);
  }
}

/**
 * The wait before retry number `retry` (1 for the first retry): the server's Retry-After when it sent one (capped
 * at maxRetryAfterMs), else "full jitter", a random wait up to the exponential ceiling, so that many clients
 * failing together do not come back in step (AWS Architecture Blog, "Exponential Backoff And Jitter").
 */
export function retryDelayMs(retry: number, policy: RetryPolicy, retryAfterMs?: number, random: () => number = Math.random): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(retryAfterMs, 0), policy.maxRetryAfterMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(random() * ceiling);
}

/** A Retry-After value (RFC 9110: delta-seconds or an HTTP date) as milliseconds from `now`; undefined when unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  // Some servers (and the OpenAI-compatible ones' fakes) send fractions of a second.
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The wait a response asks for: OpenAI's `retry-after-ms` first, then the standard `Retry-After`. */
export function retryAfterFromHeaders(headers: Headers | undefined, now = Date.now()): number | undefined {
  const ms = headers?.get('retry-after-ms')?.trim();
  if (ms && Number.isFinite(Number(ms))) return Number(ms);
  return parseRetryAfter(headers?.get('retry-after'), now);
}

/** Statuses an API client retries: timeouts, conflicts on the provider side, rate limits, server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || (status >= 500 && status <= 599);
}

/**
 * Waits `ms`, or rejects as soon as the signal aborts, with the signal's own reason (node:timers/promises rejects
 * with a generic AbortError; callers such as Temporal activities look for the reason they aborted with).
 */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) throw signal.reason;
  if (ms <= 0) return;
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    throw signal?.aborted ? signal.reason : err;
  }
}
