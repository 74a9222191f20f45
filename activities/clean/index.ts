/** Clean: a raw part → a cleaned part (main content as Markdown, normalised, hashed); drops are reported. */
import { Context } from '@temporalio/activity';
import { cleanDocument, DuplicateFilter } from '../../lib/text';
import type { CleanDocument, RawDocument } from '../../lib/schemas/documents';
import type { CleaningOptions, CrawlIssue, PartRef, ReasonCounts } from '../../lib/schemas/ingest';
import type { Deps } from '../deps';
import { elapsedSince, partKey } from '../parts';

export interface CleanInput {
  rawPart: PartRef;
  runKey: string;
  sourceId: string;
  partIndex: number;
  cleaning: CleaningOptions;
}

export interface CleanOutput {
  cleanedPart: PartRef;
  /** Every document dropped from this part, with its reason (JSON Lines of CrawlIssue). */
  dropReport: string;
  dropped: ReasonCounts;
  issues: CrawlIssue[];
  elapsedMs: number;
}

/** Issues returned in the activity result (the drop report has all of them). */
const MAX_ISSUES = 20;

export function createCleanActivities({ artifacts }: Deps) {
  return {
    async cleanPart({ rawPart, runKey, sourceId, partIndex, cleaning }: CleanInput): Promise<CleanOutput> {
      const started = performance.now();
      const ctx = Context.current();
      const dropped: ReasonCounts = {};
      const issues: CrawlIssue[] = [];
      const duplicates = new DuplicateFilter();
      const drop = (raw: RawDocument, reason: string, detail: string, duplicateOf?: string) => {
        dropped[reason] = (dropped[reason] ?? 0) + 1;
        issues.push({ location: raw.location, kind: 'dropped', reason, detail, docId: raw.docId, ...(duplicateOf ? { duplicateOf } : {}) });
      };
      async function* cleaned(): AsyncGenerator<CleanDocument> {
        for await (const raw of artifacts.readJsonl<RawDocument>(rawPart.uri)) {
          ctx.heartbeat();
          let outcome: ReturnType<typeof cleanDocument>;
          try {
            outcome = cleanDocument(raw, { minChars: cleaning.minChars });
          } catch (err) {
            // One document that breaks the extractor is reported, not allowed to fail the part.
            drop(raw, 'clean_error', err instanceof Error ? err.message : String(err));
            continue;
          }
          if (!outcome.ok) {
            drop(raw, outcome.reason, outcome.detail);
            continue;
          }
          const dup = duplicates.check(outcome.doc);
          if (dup) {
            drop(raw, 'duplicate', `same content as ${dup.keptDocId}`, dup.keptDocId);
            continue;
          }
          yield outcome.doc;
        }
      }
      const ref = await artifacts.putJsonl(partKey(runKey, 'cleaned', sourceId, partIndex), cleaned());
      // All of them, for change data capture: a stored document that was fetched but dropped is kept, not deleted.
      const dropReport = await artifacts.putJsonl(partKey(runKey, 'clean-report', sourceId, partIndex), issues);
      return { cleanedPart: { uri: ref.uri, count: ref.count }, dropReport: dropReport.uri, dropped, issues: issues.slice(0, MAX_ISSUES), elapsedMs: elapsedSince(started) };
    },
  };
}
