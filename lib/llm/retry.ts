/** Backoff for retried HTTP calls: exponential with full jitter, overridden by the server's Retry-After. */

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Longest Retry-After honoured; a longer one is capped (a client waiting an hour is rarely what anyone wants). */
  maxRetryAfterMs: number;
  random?: () => number;
}

/** Statuses worth retrying: timeouts, conflicts on the provider side, rate limits, server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || (status >= 500 && status <= 599);
}

/**
 * Delay before retry number `retry` (1 = first retry). `retry-after-ms` (OpenAI) and `Retry-After` (seconds or an
 * HTTP date, RFC 9110) win over the computed backoff.
 */
export function retryDelayMs(retry: number, headers: Headers | undefined, o: BackoffOptions, now = Date.now()): number {
  const fromServer = headers ? retryAfterMs(headers, now) : undefined;
  if (fromServer !== undefined) return Math.min(Math.max(fromServer, 0), o.maxRetryAfterMs);
  const ceiling = Math.min(o.maxMs, o.initialMs * 2 ** (retry - 1));
  return Math.round((o.random ?? Math.random)() * ceiling);
}

export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Number(ms);
  const ra = headers.get('retry-after');
  if (ra === null || ra.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(ra.trim())) return Number(ra) * 1000;
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Sleeps, or rejects as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
