/** HttpReranker's calls under the shared retry policy (lib/retry.ts), against a scripted fetch. */
import { describe, expect, it } from 'vitest';
import { HttpReranker } from '../../../rag/rerank';

/** A fetch that answers from a script, one entry per call (an Error is a network failure), and counts the calls. */
function scripted(...script: Array<Response | Error>) {
  const calls: number[] = [];
  const f = (async () => {
    calls.push(performance.now());
    const next = script.shift() ?? new Response(JSON.stringify([{ index: 0, score: 0.5 }]), { status: 200 });
    if (next instanceof Error) throw next;
    return next;
  }) as unknown as typeof fetch;
  return { fetch: f, calls };
}

const url = 'http://tei.invalid/rerank';

describe('HttpReranker retries', () => {
  it('honours Retry-After on a 429, then scores', async () => {
    const f = scripted(new Response('slow down', { status: 429, headers: { 'retry-after': '0.3' } }));
    const scores = await new HttpReranker({ url, fetch: f.fetch }).score('q', ['p']);
    expect(scores).toEqual([0.5]);
    expect(f.calls).toHaveLength(2);
    expect(f.calls[1]! - f.calls[0]!).toBeGreaterThanOrEqual(290);
  });

  it('retries network failures up to maxRetries, then says what failed', async () => {
    const f = scripted(new TypeError('fetch failed'), new TypeError('fetch failed'), new TypeError('fetch failed'));
    const err = await new HttpReranker({ url, fetch: f.fetch, maxRetries: 2 }).score('q', ['p']).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`re-ranker ${url}: fetch failed`);
    expect(f.calls).toHaveLength(3);
  });

  it('fails at once on a 4xx, with the server’s answer', async () => {
    const f = scripted(new Response('bad input', { status: 400 }));
    await expect(new HttpReranker({ url, fetch: f.fetch }).score('q', ['p'])).rejects.toThrow(`re-ranker ${url}: HTTP 400: bad input`);
    expect(f.calls).toHaveLength(1);
  });

  it('stops at the caller’s abort during the wait, with its reason', async () => {
    const f = scripted(new Response('', { status: 503, headers: { 'retry-after': '60' } }));
    const controller = new AbortController();
    const reason = new Error('query cancelled');
    setTimeout(() => controller.abort(reason), 50);
    await expect(new HttpReranker({ url, fetch: f.fetch }).score('q', ['p'], controller.signal)).rejects.toBe(reason);
    expect(f.calls).toHaveLength(1);
  });
});
