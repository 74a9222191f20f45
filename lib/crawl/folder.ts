/**
 * The local folder source: Markdown, text, HTML and PDF (its text layer) files under a folder, one outcome per file in location order.
 * A symlink is followed only when it stays inside the folder (checked on its real path), and then the file counts
 * once, under its real path; one that leads out is reported 'outside_root'. The folder itself must lie under the roots
 * the worker allows (TWINFLOW_ALLOW_PATHS, lib/security/resources.ts), else the source fails 'not_allowed'.
 */
import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../config';
import { docIdFor } from '../hash';
import type { RawDocument } from '../schemas/documents';
import type { FolderSourceConfig } from '../schemas/sources';
import { checkLocalPath, type ResourcePolicy } from '../security/resources';
import { extensionOf, languageOf } from './file-types';
import { extractPdfText, PdfReadError, type PdfText } from './pdf-text';
import { pathFilter } from './path-filter';
import { executePlan, type PlanItem } from './plan';
import { looksBinary } from './text-decoding';
import { applyHtmlMeta, decodeTextFile } from './text-document';
import { type CrawlOptions, type CrawlOutcome, type CrawlResult, report, type Source } from './types';

interface FolderFile extends PlanItem {
  /** Absolute real path. */
  abs: string;
  /** Relative to the folder's real path, with "/" separators. */
  rel: string;
}

export interface FolderSourceDeps {
  /** What this worker lets input read (default: the configuration of this process's environment). */
  resources?: ResourcePolicy;
}

export class FolderSource implements Source {
  readonly id: string;

  constructor(
    readonly config: FolderSourceConfig,
    private readonly deps: FolderSourceDeps = {},
  ) {
    this.id = config.id;
  }

  async *crawl(opts: CrawlOptions = {}): AsyncGenerator<CrawlOutcome> {
    const given = path.resolve(this.config.path);
    const verdict = checkLocalPath(this.deps.resources ?? loadConfig().resources, given, 'folder source path');
    if (!verdict.allowed) {
      // A listing failure: a sync of a folder that is now refused keeps what it stored, and deletes nothing.
      const location = pathToFileURL(given).href;
      yield { ...report(location, 'not_allowed', verdict.reason, { listing: true }), cursor: opts.resumeAfter || location };
      return;
    }
    let root: string;
    try {
      root = await fs.realpath(given);
      if (!(await fs.stat(root)).isDirectory()) throw Object.assign(new Error(`${given} is not a folder`), { code: 'ENOTDIR' });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const location = pathToFileURL(given).href;
      const reason = e.code === 'ENOENT' ? 'not_found' : 'unreadable';
      // Reported whatever the cursor: a retried crawl must not end quietly when the folder went away.
      yield { ...report(location, reason, `folder ${given}: ${e.message}`, { listing: true }), cursor: opts.resumeAfter || location };
      return;
    }
    const { items, reports } = await this.walk(root, opts.signal);
    yield* executePlan({ items, reports, concurrency: 4, process: (file) => this.readFile(root, file) }, opts);
  }

  private async walk(root: string, signal?: AbortSignal): Promise<{ items: FolderFile[]; reports: CrawlResult[] }> {
    const filter = pathFilter(this.config.include, this.config.exclude);
    const items: FolderFile[] = [];
    const reports: CrawlResult[] = [];
    const fileUrl = (abs: string, dir = false) => pathToFileURL(abs).href + (dir ? '/' : '');
    const inside = (abs: string) => abs === root || abs.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
    const rel = (abs: string) => path.relative(root, abs).split(path.sep).join('/');

    const addFile = (abs: string) => {
      const r = rel(abs);
      const pattern = filter.excludedBy(r);
      if (pattern) reports.push(report(fileUrl(abs), 'excluded', `matches exclude pattern ${pattern}`));
      else items.push({ key: fileUrl(abs), abs, rel: r });
    };

    const visit = async (dir: string): Promise<void> => {
      signal?.throwIfAborted();
      let entries: Dirent[];
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (err) {
        reports.push(report(fileUrl(dir, true), 'unreadable', (err as Error).message, { listing: true }));
        return;
      }
      for (const entry of entries) {
        const abs = path.join(dir, entry.name);
        const r = rel(abs);
        if (entry.isDirectory()) {
          const pattern = filter.excludedBy(r);
          if (pattern) reports.push(report(fileUrl(abs, true), 'excluded', `directory matches exclude pattern ${pattern}`));
          else await visit(abs);
        } else if (entry.isFile()) {
          if (filter.included(r)) addFile(abs);
        } else if (entry.isSymbolicLink()) {
          await visitLink(abs, r);
        }
      }
    };

    const visitLink = async (abs: string, r: string) => {
      let target: string;
      try {
        target = await fs.realpath(abs);
      } catch (err) {
        if (filter.included(r)) reports.push(report(fileUrl(abs), 'unreadable', `broken symbolic link: ${(err as Error).message}`));
        return;
      }
      let stat;
      try {
        stat = await fs.stat(target);
      } catch (err) {
        reports.push(report(fileUrl(abs), 'unreadable', `symbolic link to ${target}: ${(err as Error).message}`));
        return;
      }
      if (!inside(target)) {
        if (stat.isDirectory() || filter.included(r)) {
          reports.push(report(fileUrl(abs, stat.isDirectory()), 'outside_root', `symbolic link to ${target}, outside ${root}`));
        }
        return;
      }
      // Inside the folder: a linked folder is walked anyway under its real path (and following it could loop); a
      // linked file counts once, under its real path.
      if (stat.isFile() && filter.included(r)) addFile(target);
    };

    await visit(root);
    return { items, reports };
  }

  private async readFile(root: string, file: FolderFile): Promise<CrawlResult> {
    const { maxFileBytes } = this.config;
    let bytes: Uint8Array;
    try {
      const stat = await fs.stat(file.abs);
      if (stat.size > maxFileBytes) return report(file.key, 'too_large', `${stat.size} bytes is over maxFileBytes=${maxFileBytes}`);
      bytes = await fs.readFile(file.abs);
    } catch (err) {
      return report(file.key, 'unreadable', (err as Error).message);
    }
    if (extensionOf(file.rel) === 'pdf') return this.readPdf(root, file, bytes);
    if (looksBinary(bytes)) return report(file.key, 'binary', 'contains NUL bytes');
    const { contentType, isHtml, decoded } = decodeTextFile(file.rel, bytes);
    const doc = this.documentOf(file, {
      contentType,
      body: decoded.text,
      metadata: { root, relativePath: file.rel, bytes: bytes.byteLength, encoding: decoded.encoding },
    });
    const language = languageOf(file.rel);
    if (language && !['markdown', 'text', 'html', 'restructuredtext'].includes(language)) doc.language = language;
    if (isHtml) applyHtmlMeta(doc, decoded.text);
    return { kind: 'document', doc };
  }

  /** A document of this source: its id, location and path come from the file, the content from its reader. */
  private documentOf(file: FolderFile, content: Pick<RawDocument, 'contentType' | 'body' | 'metadata'>): RawDocument {
    return { docId: docIdFor(file.key), sourceId: this.id, sourceType: 'folder', location: file.key, path: file.abs, ...content };
  }

  private async readPdf(root: string, file: FolderFile, bytes: Uint8Array): Promise<CrawlResult> {
    let pdf: PdfText;
    try {
      pdf = await extractPdfText(bytes);
    } catch (err) {
      if (err instanceof PdfReadError) return report(file.key, 'unreadable', err.message);
      throw err;
    }
    if (!pdf.text.trim()) return report(file.key, 'unsupported', `a PDF of ${pdf.pages} page(s) without a text layer (a scan?); OCR is not supported`);
    const doc = this.documentOf(file, {
      // The body is the extracted text, so later steps treat it as plain text.
      contentType: 'text/plain',
      body: pdf.text,
      metadata: { root, relativePath: file.rel, bytes: bytes.byteLength, extractedFrom: 'application/pdf', pages: pdf.pages },
    });
    if (pdf.title) doc.title = pdf.title;
    if (pdf.author) doc.author = pdf.author;
    if (pdf.createdAt) doc.publishedAt = pdf.createdAt;
    return { kind: 'document', doc };
  }
}
