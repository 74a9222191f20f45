import { createSource, type CrawlOptions, type CrawlOutcome, type Source } from '../../../lib/crawl';
import type { RawDocument } from '../../../lib/schemas/documents';
import type { WebSourceConfig } from '../../../lib/schemas/sources';

export type WebInput = Partial<Omit<WebSourceConfig, 'retry'>> & { retry?: Partial<WebSourceConfig['retry']> };

/** A web source with test-speed politeness: high rate, short backoff (the defaults wait seconds between attempts). */
export function webSource(config: WebInput, retry: Partial<WebSourceConfig['retry']> = {}): Source {
  return createSource({
    type: 'web',
    id: 'site',
    perHostRps: 200,
    perHostConcurrency: 4,
    timeoutMs: 3000,
    ...config,
    retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50, maxRetryAfterMs: 3000, ...retry, ...config.retry },
  } as WebSourceConfig);
}

export interface Crawled {
  outcomes: CrawlOutcome[];
  docs: RawDocument[];
  reports: Array<Exclude<CrawlOutcome, { kind: 'document' }>>;
  /** The report for a location (throws when there is none, so a test fails with a readable message). */
  reportFor(location: string): Exclude<CrawlOutcome, { kind: 'document' }>;
  docFor(location: string): RawDocument;
}

export async function crawlAll(source: Source, opts: CrawlOptions = {}): Promise<Crawled> {
  const outcomes: CrawlOutcome[] = [];
  for await (const o of source.crawl(opts)) outcomes.push(o);
  const docs = outcomes.flatMap((o) => (o.kind === 'document' ? [o.doc] : []));
  const reports = outcomes.filter((o): o is Exclude<CrawlOutcome, { kind: 'document' }> => o.kind !== 'document');
  return {
    outcomes,
    docs,
    reports,
    reportFor(location) {
      const r = reports.find((x) => x.location === location);
      if (!r) throw new Error(`no report for ${location}; reports: ${reports.map((x) => `${x.location} ${x.reason}`).join(', ')}; docs: ${docs.map((d) => d.location).join(', ')}`);
      return r;
    },
    docFor(location) {
      const d = docs.find((x) => x.location === location);
      if (!d) throw new Error(`no document for ${location}; reports: ${reports.map((x) => `${x.location} ${x.reason}: ${x.detail}`).join(', ')}`);
      return d;
    },
  };
}
