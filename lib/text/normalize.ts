/**
 * Text normalisation shared by every cleaned document, whatever its source format.
 *
 * Unicode form: NFC, not NFKC. NFC only merges canonically equivalent sequences (an "e" plus a combining acute
 * accent becomes "é"), which never changes what the text means. NFKC also folds "compatibility" characters, and that
 * damages exactly the content a twin learns from: code ("x²" becomes "x2", "µs" turns into a Greek mu that no longer
 * matches the identifier, full-width punctuation in string literals changes), maths ("½" becomes "1⁄2") and CJK text
 * (half-width katakana are rewritten). Tokenizers that want NFKC apply it themselves.
 *
 * The function is idempotent: normalizeText(normalizeText(x)) === normalizeText(x).
 */
import { classifyLines } from './fences';

/**
 * Invisible characters that only get in the way of search and tokenizers: zero-width space, word joiner, byte
 * order mark / zero-width no-break space, soft hyphen and the Mongolian vowel separator. The zero-width joiner and
 * non-joiner (U+200D, U+200C) stay: they are part of the spelling of Persian and Indic words and of emoji sequences.
 */
const INVISIBLE = /[\u200B\u2060\uFEFF\u00AD\u180E]/g;
/** C0 and C1 control characters except tab and line feed (carriage returns are handled as line endings first). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
/** Space characters that look like a space and should be one in prose (no-break and the typographic spaces). */
const ODD_SPACES = /[\u00A0\u2000-\u200A\u202F\u205F]/g;

/** Unicode NFC, line endings, invisible and control characters: safe everywhere, code included. */
export function normalizeCharacters(text: string): string {
  return text
    .normalize('NFC')
    .replace(/\r\n?|[\u2028\u2029]/g, '\n')
    .replace(INVISIBLE, '')
    .replace(CONTROL, '');
}

/**
 * Full normalisation of a Markdown (or plain) text: characters as above; outside fenced code blocks also odd spaces
 * to plain ones, trailing whitespace removed, blank-only lines emptied and runs of blank lines collapsed to one.
 * Code blocks keep every line as it was. The result has no leading or trailing blank lines and ends with a newline
 * (an empty text stays empty).
 */
export function normalizeText(text: string): string {
  const lines = normalizeCharacters(text).split('\n');
  const kinds = classifyLines(lines);
  const out: string[] = [];
  let blankRun = 0;
  for (let i = 0; i < lines.length; i++) {
    const kind = kinds[i]!;
    if (kind === 'code') {
      out.push(lines[i]!);
      blankRun = 0;
      continue;
    }
    const line = kind === 'text' ? lines[i]!.replace(ODD_SPACES, ' ').replace(/[ \t]+$/, '') : lines[i]!.replace(/[ \t]+$/, '');
    if (line === '') {
      blankRun++;
      if (blankRun > 1) continue;
    } else blankRun = 0;
    out.push(line);
  }
  // Leading and trailing blank lines go; code lines are never blank-trimmed from the inside because a code block
  // always ends with its closing fence (or, unclosed, runs to the end where trailing blank lines carry nothing).
  while (out.length > 0 && out[0] === '') out.shift();
  while (out.length > 0 && out[out.length - 1]!.trim() === '') out.pop();
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
