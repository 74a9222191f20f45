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
  dropped: ReasonCounts;
  issues: CrawlIssue[];
  elapsedMs: number;
}

export function createCleanActivities({ artifacts }: Deps) {
  return {
    async cleanPart({ rawPart, runKey, sourceId, partIndex, cleaning }: CleanInput): Promise<CleanOutput> {
      const started = performance.now();
      const ctx = Context.current();
      const dropped: ReasonCounts = {};
      const issues: CrawlIssue[] = [];
      const duplicates = new DuplicateFilter();
      const drop = (location: string, reason: string, detail: string) => {
        dropped[reason] = (dropped[reason] ?? 0) + 1;
        issues.push({ location, kind: 'dropped', reason, detail });
      };
      async function* cleaned(): AsyncGenerator<CleanDocument> {
        for await (const raw of artifacts.readJsonl<RawDocument>(rawPart.uri)) {
          ctx.heartbeat();
          let outcome: ReturnType<typeof cleanDocument>;
          try {
            outcome = cleanDocument(raw, { minChars: cleaning.minChars });
          } catch (err) {
            // One document that breaks the extractor is reported, not allowed to fail the part.
            drop(raw.location, 'clean_error', err instanceof Error ? err.message : String(err));
            continue;
          }
          if (!outcome.ok) {
            drop(raw.location, outcome.reason, outcome.detail);
            continue;
          }
          const dup = duplicates.check(outcome.doc);
          if (dup) {
            drop(raw.location, 'duplicate', `same content as ${dup.keptDocId}`);
            continue;
          }
          yield outcome.doc;
        }
      }
      const ref = await artifacts.putJsonl(partKey(runKey, 'cleaned', sourceId, partIndex), cleaned());
      return { cleanedPart: { uri: ref.uri, count: ref.count }, dropped, issues, elapsedMs: elapsedSince(started) };
    },
  };
}
