/**
 * Source configurations: what the Crawl step reads. The ingest workflow takes `sources: SourceConfig[]`, a
 * discriminated union on `type`. Workflow code may import this file (zod only, no side effects); the defaults that
 * need Node (the User-Agent's version) are applied by lib/crawl.
 */
import { z } from 'zod';
import { GIT_URL_CREDENTIALS, gitUrlHasCredentials, urlCredentials, WEB_URL_CREDENTIALS } from './url-credentials';

const MB = 1024 * 1024;
/**
 * The largest body or file a source may read (a document is held in memory whole, and so is what a gzip bomb
 * inflates to up to this limit): 100 MiB.
 */
const MAX_DOCUMENT_BYTES = 100 * MB;

/** Ends up in S3 keys and vector payloads, so it is restricted to a safe alphabet. */
export const sourceIdSchema = z
  .string({ error: 'expected a source id' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected 1-64 letters, digits, ".", "_" or "-" (starting with a letter or digit)');

const httpUrl = z
  .string()
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'expected an absolute http(s) URL')
  .refine((v) => urlCredentials(v) === undefined, WEB_URL_CREDENTIALS);

/**
 * A URL pattern: a glob matched against the whole URL (`*` stays within a path segment, `**` crosses segments,
 * `{a,b}` alternatives, `?` is a literal question mark), e.g. `https://example.com/blog/**` or `**\/docs/**`; or a
 * regular expression written `/.../flags`.
 */
export const urlPatternSchema = z.string().min(1, 'must not be empty').superRefine((v, ctx) => {
  const re = /^\/(.+)\/([a-z]*)$/s.exec(v);
  if (!re) return;
  try {
    new RegExp(re[1]!, re[2]);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(err as Error).message}` });
  }
});

/** A path glob (picomatch syntax) matched against a file's path relative to the repository or folder root. */
const pathGlob = z.string().min(1, 'must not be empty');

const positiveInt = z.number().int().positive();
const byteLimit = z.number().int().positive().max(MAX_DOCUMENT_BYTES, `at most ${MAX_DOCUMENT_BYTES} bytes (${MAX_DOCUMENT_BYTES / MB} MiB)`);

export const retrySettingsSchema = z
  .object({
    /** Attempts per request, the first included (429, 5xx and network errors are retried). */
    attempts: positiveInt.max(10).default(4),
    /** Backoff before retry n is baseDelayMs * 2^(n-1), capped at maxDelayMs, with jitter. */
    baseDelayMs: z.number().int().nonnegative().default(500),
    maxDelayMs: z.number().int().nonnegative().default(20_000),
    /** A longer Retry-After is shortened to this. */
    maxRetryAfterMs: z.number().int().nonnegative().default(60_000),
  })
  .strict();

export const webSourceSchema = z
  .object({
    type: z.literal('web'),
    id: sourceIdSchema,
    urls: z.array(httpUrl).optional(),
    sitemaps: z.array(httpUrl).optional(),
    feeds: z.array(httpUrl).optional(),
    include: z.array(urlPatternSchema).optional(),
    exclude: z.array(urlPatternSchema).optional(),
    maxPages: positiveInt.default(500),
    maxBytes: byteLimit.default(5 * MB),
    timeoutMs: positiveInt.default(15_000),
    maxRedirects: z.number().int().nonnegative().max(20).default(5),
    perHostConcurrency: positiveInt.max(16).default(2),
    perHostRps: z.number().positive().default(2),
    respectRobots: z.boolean().default(true),
    /** Default: "twinflow/<version> (+https://github.com/twinflow/twinflow)", filled in by lib/crawl. */
    userAgent: z.string().min(1).optional(),
    /** How deep nested sitemap indexes are followed. */
    maxSitemapDepth: z.number().int().nonnegative().max(10).default(3),
    retry: retrySettingsSchema.prefault({}),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (!v.urls?.length && !v.sitemaps?.length && !v.feeds?.length) {
      ctx.addIssue({ code: 'custom', path: ['urls'], message: 'a web source needs at least one of urls, sitemaps or feeds' });
    }
  });

export const DEFAULT_GIT_INCLUDE = [
  '**/*.{md,mdx,rst,txt,py,ts,tsx,js,jsx,go,rs,java,kt,c,h,cpp,hpp,cs,rb,php,swift,scala,sh,sql,yaml,yml,toml,ipynb}',
];

export const DEFAULT_GIT_EXCLUDE = [
  '**/node_modules/**',
  '**/vendor/**',
  '**/dist/**',
  '**/build/**',
  '**/.git/**',
  '**/third_party/**',
  '**/*.min.js',
  '**/*.min.css',
  '**/*.map',
  '**/*.generated.*',
  '**/*_pb2.py',
  '**/*.pb.go',
  '**/package-lock.json',
  '**/npm-shrinkwrap.json',
  '**/pnpm-lock.yaml',
  '**/*.lock',
  '**/go.sum',
];

export const gitSourceSchema = z
  .object({
    type: z.literal('git'),
    id: sourceIdSchema,
    /** https://, ssh://, scp-like git@host:owner/repo, or file:// */
    url: z
      .string()
      .refine(isGitUrl, 'expected a git URL: https://..., ssh://..., git@host:owner/repo or file:///...')
      .refine((v) => !gitUrlHasCredentials(v), GIT_URL_CREDENTIALS),
    /** Branch or tag; the remote's default branch when absent. */
    ref: z
      .string()
      .regex(/^[A-Za-z0-9._/][A-Za-z0-9._/-]*$/, 'expected a branch or tag name')
      .optional(),
    include: z.array(pathGlob).default(DEFAULT_GIT_INCLUDE),
    exclude: z.array(pathGlob).default(DEFAULT_GIT_EXCLUDE),
    maxFileBytes: byteLimit.default(MB),
    /** The clone is given up after this long. */
    cloneTimeoutMs: positiveInt.default(300_000),
  })
  .strict();

export const DEFAULT_FOLDER_INCLUDE = ['**/*.{md,markdown,mdx,txt,text,rst,html,htm,pdf}'];
export const DEFAULT_FOLDER_EXCLUDE = ['**/node_modules/**', '**/.git/**'];

export const folderSourceSchema = z
  .object({
    type: z.literal('folder'),
    id: sourceIdSchema,
    /** An absolute path, or one relative to the worker's working directory. */
    path: z.string().min(1, 'must not be empty'),
    include: z.array(pathGlob).default(DEFAULT_FOLDER_INCLUDE),
    exclude: z.array(pathGlob).default(DEFAULT_FOLDER_EXCLUDE),
    maxFileBytes: byteLimit.default(5 * MB),
  })
  .strict();

export const DEFAULT_S3_INCLUDE = ['**/*.{md,markdown,mdx,txt,text,html,htm,json}'];

/**
 * Documents dropped into an S3 "inbox" prefix (lib/crawl/s3.ts): Markdown, text, HTML or JSON objects under `prefix`
 * of `bucket` (default: the configured artifact bucket). Globs match the key relative to the prefix.
 */
export const s3SourceSchema = z
  .object({
    type: z.literal('s3'),
    id: sourceIdSchema,
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)')
      .optional(),
    prefix: z.string().min(1, 'must not be empty').refine((p) => !p.startsWith('/'), 'an S3 key prefix does not start with "/"'),
    include: z.array(pathGlob).default(DEFAULT_S3_INCLUDE),
    exclude: z.array(pathGlob).default([]),
    maxFileBytes: byteLimit.default(5 * MB),
    /** Read only these keys (set by push syncs from bucket events); a key that is gone is reported as not_found. */
    keys: z.array(z.string().min(1)).max(1000).optional(),
  })
  .strict();

export const sourceConfigSchema = z.discriminatedUnion('type', [webSourceSchema, gitSourceSchema, folderSourceSchema, s3SourceSchema]);

/** A list of sources whose ids are unique (the id names the source's documents and reports). */
export const sourceListSchema = z
  .array(sourceConfigSchema)
  .min(1, 'at least one source is required')
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((s, i) => {
      if (seen.has(s.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate source id "${s.id}"` });
      seen.add(s.id);
    });
  });

export type WebSourceConfig = z.output<typeof webSourceSchema>;
export type GitSourceConfig = z.output<typeof gitSourceSchema>;
export type FolderSourceConfig = z.output<typeof folderSourceSchema>;
export type S3SourceConfig = z.output<typeof s3SourceSchema>;
export type SourceConfig = z.output<typeof sourceConfigSchema>;
/** What a caller writes (defaults optional). */
export type SourceConfigInput = z.input<typeof sourceConfigSchema>;
export type RetrySettings = z.output<typeof retrySettingsSchema>;

function isGitUrl(v: string): boolean {
  if (v.startsWith('-')) return false; // never let a URL read as a git option
  if (/^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/\\].*$/.test(v)) return true; // scp-like ssh
  try {
    const u = new URL(v);
    return ['https:', 'http:', 'ssh:', 'file:'].includes(u.protocol) && (u.protocol === 'file:' ? u.pathname.length > 1 : u.hostname !== '');
  } catch {
    return false;
  }
}
