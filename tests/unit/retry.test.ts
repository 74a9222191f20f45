/** The one retry policy (lib/retry.ts) that the LLM client, the embedders, the re-ranker and the crawlers share. */
import { describe, expect, it } from 'vitest';
import { isRetryableStatus, parseRetryAfter, retry, retryAfterFromHeaders, retryDelayMs, sleep, type RetryPolicy } from '../../lib/retry';

const policy: RetryPolicy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 };

describe('Retry-After', () => {
  it('reads seconds (whole or fractional) or an HTTP date, and nothing else', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('0.3', now)).toBe(300);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('  ', now)).toBeUndefined();
  });

  it('prefers retry-after-ms (OpenAI) to Retry-After in response headers', () => {
    expect(retryAfterFromHeaders(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': '2' }))).toBe(2000);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': new Date(10_000).toUTCString() }), 7_000)).toBe(3000);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after-ms': 'x', 'retry-after': '1' }))).toBe(1000);
    expect(retryAfterFromHeaders(new Headers())).toBeUndefined();
    expect(retryAfterFromHeaders(undefined)).toBeUndefined();
  });
});

describe('retryDelayMs', () => {
  it('backs off exponentially with full jitter, up to the cap', () => {
    expect(retryDelayMs(1, policy, undefined, () => 1)).toBe(100);
    expect(retryDelayMs(3, policy, undefined, () => 1)).toBe(400);
    expect(retryDelayMs(10, policy, undefined, () => 1)).toBe(1000);
    expect(retryDelayMs(3, policy, undefined, () => 0)).toBe(0);
    expect(retryDelayMs(3, policy, undefined, () => 0.5)).toBe(200);
  });

  it('waits as long as the server asked instead, capped at maxRetryAfterMs', () => {
    expect(retryDelayMs(1, policy, 2000, () => 0)).toBe(2000);
    expect(retryDelayMs(1, policy, 0, () => 1)).toBe(0);
    expect(retryDelayMs(1, policy, 3_600_000, () => 0)).toBe(5000);
  });

  it('classifies API statuses', () => {
    expect([408, 409, 429, 500, 503, 599].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 422, 600].some(isRetryableStatus)).toBe(false);
  });
});

/** A recorded clock: the waits retry() asked for, without waiting. */
function recorder() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

describe('retry', () => {
  it('tries again while the predicate says so, until the attempts are spent, then throws the last error', async () => {
    const clock = recorder();
    const seen: number[] = [];
    const err = await retry(
      async (n) => {
        seen.push(n);
        throw new Error(`failure ${n}`);
      },
      { policy, shouldRetry: (o) => !o.ok, random: () => 1, sleep: clock.sleep },
    ).catch((e: unknown) => e);
    expect((err as Error).message).toBe('failure 4');
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(clock.waits).toEqual([100, 200, 400]);
  });

  it('stops at once on an outcome the predicate does not retry', async () => {
    const clock = recorder();
    let calls = 0;
    const ok = await retry(async () => ++calls, { policy, shouldRetry: () => false, sleep: clock.sleep });
    expect(ok).toBe(1);
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error('permanent');
        },
        { policy, shouldRetry: (o) => !o.ok && (o.error as Error).message !== 'permanent', sleep: clock.sleep },
      ),
    ).rejects.toThrow('permanent');
    expect(calls).toBe(2);
    expect(clock.waits).toEqual([]);
  });

  it('retries failures reported as values, returning the last one when the attempts are spent', async () => {
    const clock = recorder();
    const statuses = [503, 503, 200];
    const got = await retry(async (n) => statuses[n - 1]!, { policy, shouldRetry: (o) => o.ok && o.value >= 500, random: () => 0, sleep: clock.sleep });
    expect(got).toBe(200);
    const last = await retry(async () => 503, { policy: { ...policy, attempts: 2 }, shouldRetry: (o) => o.ok && o.value >= 500, sleep: clock.sleep });
    expect(last).toBe(503);
  });

  it('waits as long as the outcome’s Retry-After says, not its own backoff', async () => {
    const clock = recorder();
    await retry(async (n) => n, {
      policy,
      shouldRetry: (o) => o.ok && o.value < 3,
      retryAfterMs: (o) => (o.ok && o.value === 1 ? 1500 : undefined),
      random: () => 1,
      sleep: clock.sleep,
    });
    expect(clock.waits).toEqual([1500, 200]);
  });

  it('is cut short by the caller’s abort during the wait, rejecting with the signal’s reason', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled by the caller');
    let calls = 0;
    const started = performance.now();
    setTimeout(() => controller.abort(reason), 50);
    const err = await retry(
      async () => {
        calls++;
        throw new Error('503');
      },
      { policy: { ...policy, baseDelayMs: 60_000, maxDelayMs: 60_000 }, shouldRetry: () => true, random: () => 1, signal: controller.signal },
    ).catch((e: unknown) => e);
    expect(err).toBe(reason);
    expect(calls).toBe(1);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('never retries an attempt that failed because the caller aborted', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    let calls = 0;
    const err = await retry(
      async () => {
        calls++;
        controller.abort(reason);
        throw new Error('the request was aborted');
      },
      { policy, shouldRetry: () => true, signal: controller.signal },
    ).catch((e: unknown) => e);
    expect(err).toBe(reason);
    expect(calls).toBe(1);
  });
});

describe('sleep', () => {
  it('waits, and rejects with the signal’s own reason (already aborted or aborted while waiting)', async () => {
    const started = performance.now();
    await sleep(30);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    const reason = new Error('gone');
    await expect(sleep(10, AbortSignal.abort(reason))).rejects.toBe(reason);
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});
