/**
 * The Clean step: a raw document (as crawled) becomes a clean Markdown document (the feature store's record), or is
 * dropped with a reason. Pure and deterministic: the same raw document always gives the same Markdown and
 * contentHash, which is what change data capture compares.
 *
 * - HTML: the main content only (reader view, see extract-html.ts), as Markdown; title, author, published date,
 *   language and site name from the page where the crawler did not set them. A "# Title" heading is prepended when
 *   the extracted content has no top-level heading of its own (reader view usually removes the page's <h1>), so
 *   every section's heading path starts at the document.
 * - Markdown: kept; YAML front matter moves into the document's fields and metadata.
 * - Plain text stays text; source code becomes a fenced block (labelled with its language) under a heading that
 *   names its path.
 * Then every format is normalised (normalize.ts). Every format but source code is checked for junk (junk.ts): a bot
 * challenge, login wall, cookie wall, paywall, soft 404, parked domain or empty JavaScript shell served in place of the
 * page is dropped with its kind as the reason. Then the document is measured: documents with less visible text than
 * `minChars` (`minCodeChars` for source files) are dropped as too short. Visible characters rather than words are
 * counted so that Chinese or Japanese pages, which do not separate words with spaces, are measured fairly.
 *
 * `language` is the page's natural language (<html lang>) for web pages and the programming language for source.
 */
import path from 'node:path';
import { z } from 'zod';
import { sha256 } from '../hash';
import { rawDocumentSchema, type CleanDocument, type RawDocument } from '../schemas/documents';
import { classifyContentType, mimeType } from './content-types';
import { extractHtml } from './extract-html';
import { detectJunk, type JunkKind } from './junk';
import { classifyLines, fenceFor } from './fences';
import { splitFrontMatter } from './front-matter';
import { tidy } from './html-metadata';
import { normalizeCharacters, normalizeText } from './normalize';
import { measureText } from './visible-text';

export const cleanOptionsSchema = z.object({
  /** Minimum visible characters (Markdown syntax excluded) for prose: HTML, Markdown and plain text. */
  minChars: z.number().int().nonnegative().default(200),
  /** Minimum visible characters for source files, where a short file can still be a whole, useful unit. */
  minCodeChars: z.number().int().nonnegative().default(40),
});
export type CleanOptions = z.input<typeof cleanOptionsSchema>;

export type CleanFailureReason =
  | 'invalid_document'
  | 'unsupported_content_type'
  | 'empty'
  | 'no_main_content'
  | 'too_short'
  | 'extraction_failed'
  | JunkKind;

export type CleanResult =
  | { ok: true; doc: CleanDocument }
  | { ok: false; reason: CleanFailureReason; detail: string };

interface Draft {
  /** Markdown before normalisation, without any heading the cleaner adds. */
  body: string;
  title?: string;
  author?: string;
  publishedAt?: string;
  language?: string;
  tags: string[];
  metadata: CleanDocument['metadata'];
  /** A heading to put above the body (source files always, HTML pages without their own H1). */
  heading?: string;
  minChars: number;
}

/** Short text metadata: NFC, no control characters, whitespace collapsed. */
function field(value: string | undefined): string | undefined {
  return value === undefined ? undefined : tidy(normalizeCharacters(value));
}

function fileName(raw: RawDocument): string | undefined {
  const p = raw.path ?? (raw.url ? new URL(raw.url, 'http://x').pathname : undefined);
  const base = p ? path.posix.basename(p) : '';
  return base === '' ? undefined : base;
}

/** The text of the first level-1 ATX heading outside code blocks, if any. */
function firstH1(markdown: string): string | undefined {
  const lines = markdown.split('\n');
  const kinds = classifyLines(lines);
  for (let i = 0; i < lines.length; i++) {
    if (kinds[i] !== 'text') continue;
    const m = /^ {0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$/.exec(lines[i]!);
    if (m) return m[1];
  }
  return undefined;
}

function draftHtml(raw: RawDocument, minChars: number): Draft {
  const page = extractHtml(raw.body, raw.url ?? (/^https?:\/\//.test(raw.location) ? raw.location : undefined));
  const meta = page.metadata;
  const metadata: CleanDocument['metadata'] = {};
  if (meta.siteName) metadata.siteName = meta.siteName;
  if (meta.description) metadata.excerpt = meta.description;
  if (meta.modifiedAt) metadata.modifiedAt = meta.modifiedAt;
  metadata.readerView = page.readerView;
  const body = normalizeText(page.markdown);
  const title = raw.title ?? meta.title;
  return {
    body,
    title,
    author: raw.author ?? meta.author,
    publishedAt: raw.publishedAt ?? meta.publishedAt,
    language: raw.language ?? meta.language,
    tags: [],
    metadata,
    heading: title && !firstH1(body) ? title : undefined,
    minChars,
  };
}

function draftMarkdown(raw: RawDocument, minChars: number): Draft {
  const { frontMatter, body } = splitFrontMatter(normalizeCharacters(raw.body));
  return {
    body,
    title: raw.title ?? frontMatter?.title ?? firstH1(body),
    author: raw.author ?? frontMatter?.author,
    publishedAt: raw.publishedAt ?? frontMatter?.date,
    language: raw.language,
    tags: frontMatter?.tags ?? [],
    metadata: { ...frontMatter?.extra },
    minChars,
  };
}

function draftSource(raw: RawDocument, language: string | undefined, minCodeChars: number): Draft {
  const code = normalizeCharacters(raw.body).replace(/^\n+|\n+$/g, '');
  const fence = fenceFor(code);
  const name = raw.path ?? fileName(raw) ?? raw.location;
  return {
    body: code.trim() === '' ? '' : `${fence}${language ?? ''}\n${code}\n${fence}\n`,
    title: raw.title ?? name,
    author: raw.author,
    publishedAt: raw.publishedAt,
    language,
    tags: [],
    metadata: {},
    // The path in a code span, so underscores and asterisks in file names are not read as emphasis.
    heading: name.includes('`') ? name : `\`${name}\``,
    minChars: minCodeChars,
  };
}

export function cleanDocument(raw: RawDocument, opts: CleanOptions = {}): CleanResult {
  const options = cleanOptionsSchema.parse(opts);
  const checked = rawDocumentSchema.safeParse(raw);
  if (!checked.success) {
    return { ok: false, reason: 'invalid_document', detail: checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  }
  raw = checked.data;
  const kind = classifyContentType(raw.contentType, raw.path);
  if (!kind) {
    return { ok: false, reason: 'unsupported_content_type', detail: `content type "${mimeType(raw.contentType)}" has no cleaner (html, markdown, plain text and source code do)` };
  }
  if (raw.body.trim() === '') return { ok: false, reason: 'empty', detail: 'the document body is empty' };

  let draft: Draft;
  try {
    if (kind.kind === 'html') draft = draftHtml(raw, options.minChars);
    else if (kind.kind === 'markdown') draft = draftMarkdown(raw, options.minChars);
    else if (kind.kind === 'source') draft = draftSource(raw, raw.language ?? kind.language, options.minCodeChars);
    else draft = { body: raw.body, title: raw.title, author: raw.author, publishedAt: raw.publishedAt, language: raw.language, tags: [], metadata: {}, minChars: options.minChars };
  } catch (error) {
    return { ok: false, reason: 'extraction_failed', detail: `${kind.kind} extraction failed: ${error instanceof Error ? error.message : String(error)}` };
  }

  const body = normalizeText(draft.body);
  // Junk before the size checks: junk pages are mostly short, and "bot_challenge" (fetch it again later) says more
  // than "too_short". The detector sees the raw page too, since reader view drops most of what identifies them.
  // Source files are code, and code that handles such pages quotes their phrases.
  if (kind.kind !== 'source') {
    const junk = detectJunk({ title: draft.title, markdown: body, html: kind.kind === 'html' ? raw.body : undefined, url: raw.url });
    if (junk) return { ok: false, reason: junk.kind, detail: junk.detail };
  }
  const size = measureText(body);
  if (size.chars === 0) {
    return kind.kind === 'html'
      ? { ok: false, reason: 'no_main_content', detail: 'no readable content was found in the page' }
      : { ok: false, reason: 'empty', detail: 'nothing is left after cleaning' };
  }
  if (size.chars < draft.minChars) {
    return { ok: false, reason: 'too_short', detail: `${size.chars} visible characters (${size.words} words) after cleaning, below the minimum of ${draft.minChars}` };
  }

  const title = field(draft.title) ?? field(fileName(raw)) ?? raw.location;
  const heading = field(draft.heading);
  const markdown = normalizeText(heading ? `# ${heading}\n\n${body}` : body);
  const doc: CleanDocument = {
    docId: raw.docId,
    sourceId: raw.sourceId,
    sourceType: raw.sourceType,
    location: raw.location,
    title,
    markdown,
    contentHash: sha256(markdown),
    tags: [...new Set(draft.tags.map((t) => field(t)).filter((t): t is string => !!t))],
    metadata: { ...draft.metadata, ...raw.metadata, contentType: mimeType(raw.contentType), wordCount: size.words },
  };
  if (raw.url !== undefined) doc.url = raw.url;
  if (raw.path !== undefined) doc.path = raw.path;
  const author = field(draft.author);
  if (author) doc.author = author;
  const publishedAt = field(draft.publishedAt);
  if (publishedAt) doc.publishedAt = publishedAt;
  const language = field(draft.language);
  if (language) doc.language = language;
  return { ok: true, doc };
}
