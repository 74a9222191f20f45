/**
 * Text of a PDF, with pdf.js (Mozilla's PDF reader; the legacy build is the one meant for Node). Loaded on first
 * use, since it is large and most crawls never meet a PDF. A PDF without a text layer (a scan) yields no text: OCR
 * is out of scope here.
 */
import type * as PdfJs from 'pdfjs-dist/legacy/build/pdf.mjs';

export interface PdfText {
  /** Page texts joined by blank lines; lines kept where the PDF ends them. */
  text: string;
  pages: number;
  title?: string;
  author?: string;
  /** The document's creation date, ISO 8601. */
  createdAt?: string;
}

export class PdfReadError extends Error {
  override name = 'PdfReadError';
}

let pdfjs: Promise<typeof PdfJs> | undefined;

export async function extractPdfText(bytes: Uint8Array): Promise<PdfText> {
  pdfjs ??= import('pdfjs-dist/legacy/build/pdf.mjs');
  const { getDocument, PDFDateString } = await pdfjs;
  // pdf.js takes ownership of (detaches) the buffer it is given, and refuses a Node Buffer: pass a plain copy.
  const task = getDocument({ data: new Uint8Array(bytes), useSystemFonts: false, disableFontFace: true, verbosity: 0 });
  try {
    let doc;
    try {
      doc = await task.promise;
    } catch (err) {
      const e = err as Error;
      throw new PdfReadError(e.name === 'PasswordException' ? 'the PDF is encrypted with a password' : `not a readable PDF: ${e.message}`);
    }
    const pageTexts: string[] = [];
    for (let i = 1; i <= doc.numPages; i++) {
      const content = await (await doc.getPage(i)).getTextContent();
      let text = '';
      for (const item of content.items) {
        if (!('str' in item)) continue;
        text += item.str + (item.hasEOL ? '\n' : '');
      }
      pageTexts.push(text.replace(/[ \t]+\n/g, '\n').trim());
    }
    const info = ((await doc.getMetadata()).info ?? {}) as Record<string, unknown>;
    const result: PdfText = { text: pageTexts.filter(Boolean).join('\n\n'), pages: doc.numPages };
    const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
    const title = str(info.Title);
    const author = str(info.Author);
    const created = str(info.CreationDate) ? PDFDateString.toDateObject(info.CreationDate as string) : null;
    if (title) result.title = title;
    if (author) result.author = author;
    if (created && !Number.isNaN(created.getTime())) result.createdAt = created.toISOString();
    return result;
  } finally {
    await task.destroy();
  }
}
