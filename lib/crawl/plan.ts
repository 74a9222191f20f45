/**
 * Runs a source's work list in a resumable way. Every outcome has a location, unique within the crawl, and its
 * cursor is that location. Outcomes come out sorted by location (code-unit order), whatever order the work
 * finishes in, so a cursor means "every location up to and including this one is done"; resuming leaves those out.
 * Reports known before any fetch (an excluded URL, an unreadable sitemap) take their place in the same order.
 */
import type { CrawlOptions, CrawlOutcome, CrawlResult } from './types';

export interface PlanItem {
  /** The location of this item's outcome, and so its cursor. */
  key: string;
}

export interface Plan<T extends PlanItem> {
  items: T[];
  /** Outcomes already known (from discovery), each at its location in the order. */
  reports?: CrawlResult[];
  process(item: T, signal: AbortSignal): Promise<CrawlResult>;
  /** Items processed at once; results still come out in order. */
  concurrency?: number;
}

/** Code-unit order, the same on every machine (localeCompare depends on the locale). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function locationOf(result: CrawlResult): string {
  return result.kind === 'document' ? result.doc.location : result.location;
}

type Entry<T> = { key: string; item: T } | { key: string; ready: CrawlResult };

export async function* executePlan<T extends PlanItem>(plan: Plan<T>, opts: CrawlOptions = {}): AsyncGenerator<CrawlOutcome> {
  const byKey = new Map<string, Entry<T>>();
  for (const item of plan.items) if (!byKey.has(item.key)) byKey.set(item.key, { key: item.key, item });
  for (const r of plan.reports ?? []) {
    const key = locationOf(r);
    if (!byKey.has(key)) byKey.set(key, { key, ready: r });
  }
  const entries = [...byKey.values()].sort((a, b) => compareKeys(a.key, b.key));
  const total = entries.length;

  let done = 0;
  if (opts.resumeAfter) {
    while (done < entries.length && compareKeys(entries[done]!.key, opts.resumeAfter) <= 0) done++;
  }

  // Our own controller, so in-flight work stops when the consumer stops early as well as on the caller's abort.
  const controller = new AbortController();
  const onAbort = () => controller.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const concurrency = Math.max(1, plan.concurrency ?? 1);
  const inFlight: Array<{ key: string; result: Promise<CrawlResult> }> = [];
  let next = done;
  try {
    opts.signal?.throwIfAborted();
    while (next < entries.length || inFlight.length > 0) {
      while (inFlight.length < concurrency && next < entries.length) {
        const entry = entries[next++]!;
        const result = 'ready' in entry ? Promise.resolve(entry.ready) : plan.process(entry.item, controller.signal);
        result.catch(() => undefined); // awaited below; this only keeps a later rejection from going unhandled
        inFlight.push({ key: entry.key, result });
      }
      const head = inFlight.shift()!;
      const result = await head.result;
      opts.signal?.throwIfAborted();
      done++;
      yield { ...result, cursor: head.key };
      opts.onProgress?.({ done, total, cursor: head.key });
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    controller.abort(new Error('crawl ended'));
  }
}
