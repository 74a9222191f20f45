/**
 * The common shape of every source of the Crawl step. A source yields one outcome per location, in a deterministic
 * order, so a retried activity can continue after the last outcome it stored (its cursor) instead of starting over.
 */
import type { RawDocument } from '../schemas/documents';

export type CrawlReason =
  /** 4xx other than 404/410, or 429/5xx still failing after the retries. */
  | 'http_error'
  | 'not_found'
  | 'robots_disallowed'
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
  | 'clone_failed';

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
export function report(location: string, reason: CrawlReason, detail: string, extra: { status?: number; count?: number } = {}): CrawlResult {
  return {
    kind: outcomeKind(reason),
    location,
    reason,
    detail,
    ...(extra.status !== undefined ? { status: extra.status } : {}),
    ...(extra.count !== undefined ? { count: extra.count } : {}),
  };
}
