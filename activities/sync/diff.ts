/**
 * The diff at the heart of change data capture, as pure functions: a source's recorded state against what its crawl
 * found now. Unit-tested on its own (tests/unit/sync/diff.test.ts).
 *
 * The rule that keeps a nightly sync from destroying data: **a stored document is deleted only on positive evidence
 * that it is gone** — its source answered 404/410 for it, the configuration or the site's robots.txt rules now leave
 * it out, or it is missing from a listing that was read completely. Everything else (a failure, a rate limit, a
 * challenge or junk page, a page that cleaned to nothing, a duplicate of another page, a listing that was cut short or
 * could not be read) keeps the stored version, and the diff says why.
 */
import { GONE_REASONS } from '../../lib/crawl/types';
import type { StateEntry } from '../../lib/schemas/sync';

/** What the crawl said about a location without yielding a document for it (a crawl report or a cleaning drop). */
export interface LocationReport {
  reason: string;
  detail?: string;
}

export interface SourceDiffOptions {
  /** Locations the crawl reported on without a document: `GONE_REASONS` delete, every other reason keeps. */
  reported?: ReadonlyMap<string, LocationReport>;
  /**
   * Whether the source listed its documents completely this time. Only then does a stored document that the crawl
   * neither found nor reported count as deleted. Default true (tests of the pure diff).
   */
  listingComplete?: boolean;
  /** Why the listing was incomplete, for the reason of what was kept. */
  listingGap?: string;
  /**
   * Documents found now that must not replace their stored version, with the content they have now: duplicates of
   * another document, and documents whose new content converged with others' (see holdByContent). A stored version
   * with that same content is unchanged; any other stored version is kept; a new one is not inserted.
   */
  keep?: ReadonlyMap<string, HeldContent>;
  /** Push: only these docIds are considered; every other recorded document is carried over untouched. */
  scope?: ReadonlySet<string>;
}

export interface SourceDiff {
  inserted: StateEntry[];
  updated: StateEntry[];
  deleted: StateEntry[];
  unchanged: number;
  /** Stored documents kept although the crawl did not confirm them (failed, junk, incomplete listing, ...). */
  retained: number;
  /** `retained` by reason. */
  keptBy: Record<string, number>;
  /** The source's state once the changes are loaded. */
  next: StateEntry[];
}

export const INCOMPLETE_LISTING = 'not_listed';

export function diffSource(previous: readonly StateEntry[], current: readonly StateEntry[], opts: SourceDiffOptions = {}): SourceDiff {
  const now = new Map(current.map((e) => [e.docId, e]));
  const seen = new Set<string>();
  const out: SourceDiff = { inserted: [], updated: [], deleted: [], unchanged: 0, retained: 0, keptBy: {}, next: [] };
  const retain = (before: StateEntry, reason: string) => {
    out.retained += 1;
    out.keptBy[reason] = (out.keptBy[reason] ?? 0) + 1;
    out.next.push(before);
  };
  const listingComplete = opts.listingComplete ?? true;
  for (const before of previous) {
    if (seen.has(before.docId)) continue; // a state file never repeats a docId; be safe if one does
    seen.add(before.docId);
    const after = now.get(before.docId);
    const held = opts.keep?.get(before.docId);
    if (held !== undefined) {
      if (held.contentHash === before.contentHash) {
        out.unchanged += 1;
        out.next.push(before);
      } else retain(before, held.reason);
      continue;
    }
    if (after) {
      if (after.contentHash === before.contentHash) out.unchanged += 1;
      else out.updated.push(after);
      out.next.push(after);
      continue;
    }
    if (opts.scope && !opts.scope.has(before.docId)) {
      out.next.push(before);
      continue;
    }
    const reported = opts.reported?.get(before.location);
    if (reported) {
      if (GONE_REASONS.has(reported.reason)) out.deleted.push(before);
      else retain(before, reported.reason);
    } else if (listingComplete) {
      out.deleted.push(before);
    } else {
      retain(before, INCOMPLETE_LISTING);
    }
  }
  for (const after of current) {
    if (seen.has(after.docId) || opts.keep?.has(after.docId)) continue;
    out.inserted.push(after);
    out.next.push(after);
  }
  return out;
}

/** Whether a crawl that produced no document at all failed as a whole (site down, clone failed, folder gone). */
export function failedEntirely(fetched: number, failed: Record<string, number>, previousDocuments: number): boolean {
  const failures = Object.values(failed).reduce((a, b) => a + b, 0);
  // With nothing before there is nothing to protect; with documents before, an empty crawl that reported failures is
  // an outage, not "every document was deleted". (To empty a source on purpose, remove it from the configuration.)
  return fetched === 0 && failures > 0 && previousDocuments > 0;
}

/** One document found now (kept by the manifest, or dropped as a duplicate), its content now and as recorded. */
export interface ContentMember {
  docId: string;
  /** Content is compared within a source: one site serving one page for all its URLs converges; two sources that
   * index the same files (a repository and a folder) do not. */
  sourceId: string;
  contentHash: string;
  previousHash?: string;
  /** The manifest kept this one (the others of its content were dropped as its duplicates). */
  kept: boolean;
}

export interface HeldContent {
  reason: 'duplicate' | 'same_content';
  contentHash: string;
}

/**
 * Which documents sharing one content must not replace their stored version. For each content that several
 * documents of one source have now:
 * - a document that already had it (the incumbent) keeps it; every other one is a duplicate of it and keeps its
 *   own stored version, whichever of them the manifest happened to meet first;
 * - else, when two or more stored documents that had different content before all changed into it, it "converged":
 *   distinct pages do not become identical overnight, the same challenge, error or login page served for all of
 *   them does; none of them is updated (and a new page with that content is not inserted), whatever the junk
 *   detector thought of the page;
 * - else the manifest's choice stands, and the others are its duplicates.
 */
export function holdByContent(members: Iterable<ContentMember>): Map<string, HeldContent> {
  const byContent = new Map<string, ContentMember[]>();
  for (const m of members) {
    const key = `${m.sourceId}\0${m.contentHash}`;
    let list = byContent.get(key);
    if (!list) byContent.set(key, (list = []));
    list.push(m);
  }
  const out = new Map<string, HeldContent>();
  for (const list of byContent.values()) {
    const { contentHash } = list[0]!;
    if (list.length < 2) continue;
    const incumbent = list.some((m) => m.previousHash === contentHash);
    const changedInto = list.filter((m) => m.previousHash !== undefined && m.previousHash !== contentHash).length;
    const reason = !incumbent && changedInto >= 2 ? 'same_content' : 'duplicate';
    for (const m of list) if (incumbent || reason === 'same_content' || !m.kept) out.set(m.docId, { reason, contentHash });
  }
  return out;
}

/** The deletion guard's settings (rsync's --max-delete, as a share of the source). */
export interface DeletionGuard {
  /** Largest share of a source's stored documents one sync may delete (0-1). */
  maxShare: number;
  /** Fewer deletions than this are never held, whatever the share (a small source may lose a page or two). */
  minDocuments: number;
}

/** Whether deleting `deletions` of a source's `stored` documents is more than the guard lets one sync do. */
export function exceedsGuard(deletions: number, stored: number, guard: DeletionGuard): boolean {
  return deletions >= guard.minDocuments && deletions > guard.maxShare * stored;
}
