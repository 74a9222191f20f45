/**
 * Crawl: one source → raw parts in S3 (JSON Lines of RawDocument, `partSize` documents each) plus a crawl report.
 *
 * Resumable: after each part is written the activity heartbeats a small checkpoint (the source's cursor and the
 * per-part counts). A retried attempt starts from that checkpoint: flushed parts are kept, the source resumes after
 * the cursor, and since part keys are derived from the part index a re-written part replaces itself.
 */
import { Context } from '@temporalio/activity';
import { createSource } from '../../lib/crawl';
import { networkPolicyFor } from '../../lib/security/network';
import type { RawDocument } from '../../lib/schemas/documents';
import type { CrawlIssue, ListingSummary, PartRef, ReasonCounts } from '../../lib/schemas/ingest';
import type { SourceConfig } from '../../lib/schemas/sources';
import type { Deps } from '../deps';
import { elapsedSince, partKey } from '../parts';
import { heartbeatWhile } from '../sync/heartbeat';

export interface CrawlInput {
  source: SourceConfig;
  runKey: string;
  partSize: number;
}

export interface CrawlOutput {
  rawParts: PartRef[];
  fetched: number;
  skipped: ReasonCounts;
  failed: ReasonCounts;
  issues: CrawlIssue[];
  reportUri: string;
  /** Whether the source listed its documents completely (see listingGaps); only then is absence a deletion. */
  listing: ListingSummary;
  elapsedMs: number;
}

/** What a heartbeat carries: small, never document data. */
export interface CrawlCheckpoint {
  cursor?: string;
  partCounts: number[];
  reportCounts: number[];
  fetched: number;
  skipped: ReasonCounts;
  failed: ReasonCounts;
  issues: CrawlIssue[];
  listing: ListingSummary;
}

const ISSUES_KEPT = 20;
/** A raw part is written once its bodies reach this size, whatever partSize says (memory stays bounded). */
export const MAX_PART_BYTES = 16 * 1024 * 1024;
/** Liveness heartbeats while the source works between outcomes (a clone, a sitemap, a big listing). */
const LIVENESS_MS = 5_000;

export function createCrawlActivities({ artifacts, config }: Deps) {
  return {
    async crawlSource({ source, runKey, partSize }: CrawlInput): Promise<CrawlOutput> {
      const started = performance.now();
      const ctx = Context.current();
      const resumed = ctx.info.heartbeatDetails as CrawlCheckpoint | undefined;
      const state: CrawlCheckpoint = resumed ?? { partCounts: [], reportCounts: [], fetched: 0, skipped: {}, failed: {}, issues: [], listing: { complete: true, gaps: [] } };
      if (resumed) ctx.log.info('crawl resumes from heartbeat', { source: source.id, cursor: resumed.cursor, parts: resumed.partCounts.length });

      let docs: RawDocument[] = [];
      /** Characters of the bodies in `docs` (a close enough measure of their memory). */
      let docBytes = 0;
      let report: CrawlIssue[] = [];
      let pending = { fetched: 0, skipped: {} as ReasonCounts, failed: {} as ReasonCounts, gaps: [] as string[] };
      let lastLocation: string | undefined;

      const flush = async () => {
        const index = state.partCounts.length;
        await artifacts.putJsonl(partKey(runKey, 'raw', source.id, index), docs);
        await artifacts.putJsonl(partKey(runKey, 'crawl-report', source.id, index), report);
        state.partCounts.push(docs.length);
        state.reportCounts.push(report.length);
        state.cursor = lastLocation;
        state.fetched += pending.fetched;
        for (const [k, v] of Object.entries(pending.skipped)) state.skipped[k] = (state.skipped[k] ?? 0) + v;
        for (const [k, v] of Object.entries(pending.failed)) state.failed[k] = (state.failed[k] ?? 0) + v;
        for (const issue of report) if (state.issues.length < ISSUES_KEPT) state.issues.push(issue);
        for (const gap of pending.gaps) addGap(state.listing, gap);
        docs = [];
        docBytes = 0;
        report = [];
        pending = { fetched: 0, skipped: {}, failed: {}, gaps: [] };
        ctx.heartbeat(state);
      };

      // The s3 inbox source reads through the artifact store's client (same endpoint and credentials); what the
      // input may read (folders, file:// repositories, buckets) and connect to (TWINFLOW_ALLOW_NETWORKS) is this
      // worker's configuration, never the input's.
      const crawler = createSource(source, {
        s3: { client: artifacts.s3, defaultBucket: artifacts.bucket },
        resources: config.resources,
        network: networkPolicyFor(config.network.allow),
      });
      if (crawler.partialListing && !resumed) addGap(state.listing, crawler.partialListing);
      // A clone, a sitemap or a large listing can take longer than the heartbeat timeout before the first outcome:
      // beat on a timer as well, with the last checkpoint (liveness only; the checkpoint moves at flushes).
      const crawlAll = async () => {
        for await (const outcome of crawler.crawl({ signal: ctx.cancellationSignal, resumeAfter: state.cursor })) {
          lastLocation = outcome.cursor;
          if (outcome.kind === 'document') {
            docs.push(outcome.doc);
            docBytes += outcome.doc.body.length;
            pending.fetched += 1;
          } else {
            const counts = outcome.kind === 'failed' ? pending.failed : pending.skipped;
            counts[outcome.reason] = (counts[outcome.reason] ?? 0) + (outcome.count ?? 1);
            report.push({ location: outcome.location, kind: outcome.kind, reason: outcome.reason, detail: outcome.detail, status: outcome.status });
            if (outcome.listing) pending.gaps.push(`${outcome.location}: ${outcome.detail}`);
          }
          // A part is also cut by bytes: partSize pages of up to maxBytes each would otherwise all sit in memory.
          if (docs.length >= partSize || report.length >= partSize * 10 || docBytes >= MAX_PART_BYTES) await flush();
          else ctx.heartbeat(state);
        }
        if (docs.length > 0 || report.length > 0 || state.partCounts.length === 0) await flush();
      };
      await heartbeatWhile(crawlAll(), LIVENESS_MS, state);

      // One report for the whole source, in crawl order (the parts stay as lineage).
      const reportUri = (
        await artifacts.putJsonl(
          `${runKey}/reports/${encodeURIComponent(source.id)}.crawl.jsonl`,
          (async function* () {
            for (let i = 0; i < state.reportCounts.length; i++) {
              if (state.reportCounts[i] === 0) continue;
              yield* artifacts.readJsonl<CrawlIssue>(partKey(runKey, 'crawl-report', source.id, i));
            }
          })(),
        )
      ).uri;

      return {
        rawParts: state.partCounts
          .map((count, i) => ({ uri: artifacts.uri(partKey(runKey, 'raw', source.id, i)), count }))
          .filter((p) => p.count > 0),
        fetched: state.fetched,
        skipped: state.skipped,
        failed: state.failed,
        issues: state.issues,
        reportUri,
        listing: state.listing,
        elapsedMs: elapsedSince(started),
      };
    },
  };
}

/** Gaps kept in the summary (the crawl report has all of them). */
const GAPS_KEPT = 10;

function addGap(listing: ListingSummary, gap: string): void {
  listing.complete = false;
  if (listing.gaps.length < GAPS_KEPT) listing.gaps.push(gap);
}
