/**
 * How a source that reads files (a folder, an S3 prefix) turns a text file into document fields, so the two read a
 * file alike: the content type by the file's name, the text decoded (an HTML file's own <meta charset> counts), and
 * the title, author and date an HTML page states about itself.
 */
import type { RawDocument } from '../schemas/documents';
import { contentTypeOf } from './file-types';
import { decodeText, type DecodedText } from './text-decoding';
import { extractHtmlMeta } from './web/html-meta';

export interface TextFile {
  contentType: string;
  isHtml: boolean;
  decoded: DecodedText;
}

/** `name`: the file's path or key, whose extension gives the content type. */
export function decodeTextFile(name: string, bytes: Uint8Array): TextFile {
  const contentType = contentTypeOf(name);
  const isHtml = contentType === 'text/html';
  return { contentType, isHtml, decoded: decodeText(bytes, { sniffDeclaration: isHtml }) };
}

/** Sets the fields the page's head states (title, author, publication date); the others stay as they are. */
export function applyHtmlMeta(doc: RawDocument, html: string): void {
  const meta = extractHtmlMeta(html);
  if (meta.title) doc.title = meta.title;
  if (meta.author) doc.author = meta.author;
  if (meta.publishedAt) doc.publishedAt = meta.publishedAt;
}
