import { describe, expect, it } from 'vitest';
import { executePlan } from '../../../lib/crawl/plan';
import { type CrawlOutcome, type CrawlResult, report } from '../../../lib/crawl/types';

const doc = (key: string): CrawlResult => ({
  kind: 'document',
  doc: { docId: key, sourceId: 's', sourceType: 'web', location: key, contentType: 'text/plain', body: key, metadata: {} },
});

async function collect(gen: AsyncIterable<CrawlOutcome>): Promise<CrawlOutcome[]> {
  const out: CrawlOutcome[] = [];
  for await (const o of gen) out.push(o);
  return out;
}

describe('executePlan', () => {
  const items = ['c', 'a', 'e', 'b', 'd'].map((key) => ({ key }));
  /** Finishes the items in an order unlike their keys', to show outcomes still come out sorted. */
  const slowFirst = async (item: { key: string }) => {
    await new Promise((r) => setTimeout(r, item.key === 'a' ? 30 : item.key === 'b' ? 15 : 1));
    return doc(item.key);
  };

  it('yields outcomes in key order with cursors, whatever order the work finishes in', async () => {
    let active = 0;
    let peak = 0;
    const outcomes = await collect(
      executePlan({
        items,
        reports: [report('bb', 'excluded', 'x')],
        concurrency: 3,
        process: async (item) => {
          peak = Math.max(peak, ++active);
          const r = await slowFirst(item);
          active--;
          return r;
        },
      }),
    );
    expect(outcomes.map((o) => o.cursor)).toEqual(['a', 'b', 'bb', 'c', 'd', 'e']);
    expect(outcomes.map((o) => (o.kind === 'document' ? o.doc.location : o.location))).toEqual(['a', 'b', 'bb', 'c', 'd', 'e']);
    expect(peak).toBe(3);
  });

  it('resumes after a cursor, counting progress from there', async () => {
    const progress: Array<[number, number | undefined, string]> = [];
    const processed: string[] = [];
    const outcomes = await collect(
      executePlan(
        {
          items,
          process: async (item) => {
            processed.push(item.key);
            return doc(item.key);
          },
        },
        { resumeAfter: 'b', onProgress: (p) => progress.push([p.done, p.total, p.cursor]) },
      ),
    );
    expect(outcomes.map((o) => o.cursor)).toEqual(['c', 'd', 'e']);
    expect(processed.sort()).toEqual(['c', 'd', 'e']);
    expect(progress).toEqual([
      [3, 5, 'c'],
      [4, 5, 'd'],
      [5, 5, 'e'],
    ]);
    // A cursor that is not a key (the list changed between attempts) still resumes at the right place.
    expect((await collect(executePlan({ items, process: slowFirst }, { resumeAfter: 'bz' }))).map((o) => o.cursor)).toEqual(['c', 'd', 'e']);
  });

  it('stops in-flight work when the consumer stops early or the caller aborts', async () => {
    const signals: AbortSignal[] = [];
    const gen = executePlan({
      items,
      concurrency: 5,
      process: async (item, signal) => {
        signals.push(signal);
        return doc(item.key);
      },
    });
    for await (const o of gen) {
      expect(o.cursor).toBe('a');
      break;
    }
    expect(signals.every((s) => s.aborted)).toBe(true);

    const controller = new AbortController();
    const aborted = collect(
      executePlan({
        items,
        process: async (item) => {
          if (item.key === 'b') controller.abort(new Error('cancelled'));
          return doc(item.key);
        },
      }, { signal: controller.signal }),
    );
    await expect(aborted).rejects.toThrow('cancelled');
  });

  it('classifies reports as skipped or failed by reason', () => {
    expect(report('x', 'robots_disallowed', 'd').kind).toBe('skipped');
    expect(report('x', 'timeout', 'd').kind).toBe('failed');
    expect(report('x', 'http_error', 'd', { status: 503 })).toEqual({ kind: 'failed', location: 'x', reason: 'http_error', detail: 'd', status: 503 });
  });
});
