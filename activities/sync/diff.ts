/**
 * The diff at the heart of change data capture, as pure functions: a source's recorded state against what its crawl
 * found now. Unit-tested on its own (tests/unit/sync/diff.test.ts).
 */
import type { StateEntry } from '../../lib/schemas/sync';

export interface SourceDiffOptions {
  /**
   * Locations the crawl tried and failed to read this time (network error, 5xx, unreadable): their previous version
   * is kept, loaded and recorded, instead of being read as a deletion. `not_found` is a real deletion and is not here.
   */
  failedLocations?: ReadonlySet<string>;
  /** Push: only these docIds are considered; every other recorded document is carried over untouched. */
  scope?: ReadonlySet<string>;
}

export interface SourceDiff {
  inserted: StateEntry[];
  updated: StateEntry[];
  deleted: StateEntry[];
  unchanged: number;
  retained: number;
  /** The source's state once the changes are loaded. */
  next: StateEntry[];
}

export function diffSource(previous: readonly StateEntry[], current: readonly StateEntry[], opts: SourceDiffOptions = {}): SourceDiff {
  const now = new Map(current.map((e) => [e.docId, e]));
  const seen = new Set<string>();
  const out: SourceDiff = { inserted: [], updated: [], deleted: [], unchanged: 0, retained: 0, next: [] };
  for (const before of previous) {
    if (seen.has(before.docId)) continue; // a state file never repeats a docId; be safe if one does
    seen.add(before.docId);
    const after = now.get(before.docId);
    if (after) {
      if (after.contentHash === before.contentHash) out.unchanged += 1;
      else out.updated.push(after);
      continue;
    }
    if (opts.scope && !opts.scope.has(before.docId)) {
      out.next.push(before);
    } else if (opts.failedLocations?.has(before.location)) {
      out.retained += 1;
      out.next.push(before);
    } else {
      out.deleted.push(before);
    }
  }
  for (const after of current) if (!seen.has(after.docId)) out.inserted.push(after);
  out.next.push(...current);
  return out;
}

/** Whether a crawl that produced no document at all failed as a whole (site down, clone failed, folder gone). */
export function failedEntirely(fetched: number, failed: Record<string, number>, previousDocuments: number): boolean {
  const failures = Object.values(failed).reduce((a, b) => a + b, 0);
  // With nothing before there is nothing to protect; with documents before, an empty crawl that reported failures is
  // an outage, not "every document was deleted". (To empty a source on purpose, remove it from the configuration.)
  return fetched === 0 && failures > 0 && previousDocuments > 0;
}
