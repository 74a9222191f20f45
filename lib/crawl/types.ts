/**
 * The common shape of every source of the Crawl step. A source yields one outcome per location, in a deterministic
 * order, so a retried activity can continue after the last outcome it stored (its cursor) instead of starting over.
 */
import type { RawDocument } from '../schemas/documents';

export type CrawlReason =
  /** 4xx other than 404/410, or 429/5xx still failing after the retries. */
  | 'http_error'
  | 'not_found'
  /** robots.txt forbids this URL (its rules were read). */
  | 'robots_disallowed'
  /**
   * robots.txt could not be read (5xx, network error, timeout): RFC 9309 says to assume everything is disallowed for
   * now. A failure, not a choice: the page's stored version is kept.
   */
  | 'robots_unavailable'
  | 'too_large'
  /** A response that is not HTML, Markdown or plain text (PDF, image, JSON...). */
  | 'non_html'
  | 'redirect_loop'
  | 'too_many_redirects'
  | 'timeout'
  | 'network_error'
  /** A file that looks binary (NUL bytes). */
  | 'binary'
  /** Matched an exclude pattern, or no include pattern. */
  | 'excluded'
  | 'unreadable'
  /** More locations than maxPages: reported once, with the count. */
  | 'limit_reached'
  /** A symlink that points out of the crawled folder. */
  | 'outside_root'
  /** A file type this crawler recognises but cannot read (e.g. PDF). */
  | 'unsupported'
  /** Reaches a document that the same crawl yields under another location (a redirect to a listed URL). */
  | 'duplicate'
  /** A sitemap or feed that is not valid XML of its kind. */
  | 'parse_error'
  /** A link in a sitemap or feed that is not an http(s) URL. */
  | 'invalid_url'
  /** The repository could not be cloned (or the ref does not exist). */
  | 'clone_failed'
  /**
   * The worker's network policy refuses the address (loopback, private, link-local, metadata... unless
   * TWINFLOW_ALLOW_NETWORKS allows it; lib/security/network.ts). A failure, never evidence that a document is gone.
   */
  | 'network_refused'
  /**
   * The worker's resource policy refuses this folder, file, bucket or repository (TWINFLOW_ALLOW_PATHS,
   * TWINFLOW_ALLOW_BUCKETS): a failure of the source, never evidence that its stored documents are gone.
   */
  | 'not_allowed';

/** What happened to one location. */
export type CrawlResult =
  | { kind: 'document'; doc: RawDocument }
  | {
      kind: 'skipped' | 'failed';
      location: string;
      reason: CrawlReason;
      detail: string;
      /** The HTTP status, for web failures that had one. */
      status?: number;
      /** How many locations one report stands for (e.g. pages over maxPages); 1 when absent. */
      count?: number;
      /**
       * This report is about a list of documents (a sitemap, a feed, a directory, a repository, a limit that cut the
       * list), not one document: the source's listing is incomplete this time, so a stored document missing from it
       * is no evidence that the document is gone.
       */
      listing?: true;
    };

export type CrawlOutcome = CrawlResult & {
  /**
   * Pass this as `resumeAfter` to continue after this outcome. It equals the outcome's location (doc.location for a
   * document). A consumer should record it (e.g. in a Temporal heartbeat) only once the outcome itself is stored, so
   * a retry neither loses nor repeats work.
   */
  cursor: string;
};

export interface CrawlProgress {
  /** Locations finished so far, counting those finished before a resume. */
  done: number;
  /** Locations in this crawl, when known. */
  total?: number;
  cursor: string;
}

export interface CrawlOptions {
  signal?: AbortSignal;
  /** A cursor from an earlier outcome: outcomes up to and including it are not produced again. */
  resumeAfter?: string;
  onProgress?(p: CrawlProgress): void;
}

export interface Source {
  readonly id: string;
  /**
   * Why this source's listing can never be complete, if it cannot (e.g. a feed lists only its latest items): then a
   * stored document that the crawl does not list is kept, never read as deleted.
   */
  readonly partialListing?: string;
  crawl(opts?: CrawlOptions): AsyncIterable<CrawlOutcome>;
}

/** Reasons that mean "chosen not to crawl" rather than "tried and failed". */
const SKIP_REASONS: ReadonlySet<CrawlReason> = new Set([
  'robots_disallowed',
  'too_large',
  'non_html',
  'binary',
  'excluded',
  'limit_reached',
  'outside_root',
  'unsupported',
  'duplicate',
]);

export function outcomeKind(reason: CrawlReason): 'skipped' | 'failed' {
  return SKIP_REASONS.has(reason) ? 'skipped' : 'failed';
}

/** A skipped or failed outcome for `location`, classified by its reason. */
export function report(location: string, reason: CrawlReason, detail: string, extra: { status?: number; count?: number; listing?: boolean } = {}): CrawlResult {
  return {
    kind: outcomeKind(reason),
    location,
    reason,
    detail,
    ...(extra.status !== undefined ? { status: extra.status } : {}),
    ...(extra.count !== undefined ? { count: extra.count } : {}),
    ...(extra.listing ? { listing: true as const } : {}),
  };
}

/**
 * Reasons that are positive evidence that a stored document is gone from its source: the source answered 404/410
 * for it, or the configuration (exclude patterns) or the site's own robots.txt rules now leave it out. Every other
 * reason (a failure, a limit, a type the crawler cannot read) says nothing about the document, which is kept.
 */
export const GONE_REASONS: ReadonlySet<string> = new Set<CrawlReason>(['not_found', 'excluded', 'robots_disallowed']);
