/**
 * Bytes to text for crawled documents. The order follows the WHATWG encoding sniffing algorithm: a byte order mark
 * wins, then the transport's charset (Content-Type), then a declaration in the first bytes (<meta charset>,
 * <meta http-equiv="Content-Type">, <?xml encoding>), then UTF-8 if the bytes are valid UTF-8, else windows-1252
 * (what browsers assume for undeclared legacy pages). TextDecoder knows the legacy encodings (Node's full ICU).
 */

export interface DecodedText {
  text: string;
  /** The WHATWG name of the encoding used, e.g. "utf-8", "windows-1252". */
  encoding: string;
  /** Where the encoding came from. */
  source: 'bom' | 'header' | 'declaration' | 'utf8-valid' | 'fallback';
}

/** How many leading bytes are searched for a declaration (the HTML spec's prescan uses 1024; be a little lenient). */
const PRESCAN_BYTES = 4096;

export function decodeText(bytes: Uint8Array, opts: { headerCharset?: string; sniffDeclaration?: boolean } = {}): DecodedText {
  const bom = bomEncoding(bytes);
  if (bom) return { text: new TextDecoder(bom).decode(bytes), encoding: bom, source: 'bom' };

  const fromHeader = opts.headerCharset ? supportedEncoding(opts.headerCharset) : undefined;
  if (fromHeader) return { text: new TextDecoder(fromHeader).decode(bytes), encoding: fromHeader, source: 'header' };

  if (opts.sniffDeclaration !== false) {
    const declared = declaredCharset(bytes);
    const enc = declared ? supportedEncoding(declared) : undefined;
    // A document that declares UTF-16 in ASCII-compatible bytes cannot be UTF-16: the spec says read it as UTF-8.
    if (enc) {
      const usable = enc.startsWith('utf-16') ? 'utf-8' : enc;
      return { text: new TextDecoder(usable).decode(bytes), encoding: usable, source: 'declaration' };
    }
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'utf-8', source: 'utf8-valid' };
  } catch {
    return { text: new TextDecoder('windows-1252').decode(bytes), encoding: 'windows-1252', source: 'fallback' };
  }
}

/** The charset parameter of a Content-Type header value, if any. */
export function charsetOf(contentType: string | null | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return m?.[1];
}

/** The media type of a Content-Type header value, lower-cased, without parameters ("" when absent). */
export function mimeOf(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The WHATWG encoding name for a label, or undefined when TextDecoder does not know it. */
export function supportedEncoding(label: string): string | undefined {
  try {
    return new TextDecoder(label.trim()).encoding;
  } catch {
    return undefined;
  }
}

function bomEncoding(b: Uint8Array): string | undefined {
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return 'utf-8';
  if (b[0] === 0xfe && b[1] === 0xff) return 'utf-16be';
  if (b[0] === 0xff && b[1] === 0xfe) return 'utf-16le';
  return undefined;
}

/** The charset declared in the document's first bytes: <meta charset>, <meta http-equiv content>, <?xml encoding>. */
export function declaredCharset(bytes: Uint8Array): string | undefined {
  // latin1 maps every byte to one character, so ASCII markup reads the same whatever the real encoding is.
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, PRESCAN_BYTES));
  const xml = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([^"']+)["']/i.exec(head);
  if (xml) return xml[1];
  for (const tag of head.replace(/<!--[\s\S]*?-->/g, '').match(/<meta\b[^>]*>/gi) ?? []) {
    const direct = /\bcharset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)/i.exec(tag);
    if (direct && !/\bcontent\s*=/i.test(tag)) return direct[1];
    if (/\bhttp-equiv\s*=\s*["']?\s*content-type/i.test(tag)) {
      const content = /\bcontent\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(tag);
      const cs = charsetOf(content?.[2] ?? content?.[3] ?? content?.[4]);
      if (cs) return cs;
    }
    // <meta charset=...> that also has a content attribute (rare, but valid)
    if (direct) return direct[1];
  }
  return undefined;
}

/** True when the bytes look binary: a NUL byte in the first 8000 (the heuristic git uses). */
export function looksBinary(bytes: Uint8Array): boolean {
  if (bomEncoding(bytes)?.startsWith('utf-16')) return false; // UTF-16 text is full of NUL bytes
  return bytes.subarray(0, 8000).includes(0);
}
