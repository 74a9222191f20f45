/**
 * Fenced code blocks (``` or ~~~) in Markdown, found line by line. Both normalisation (which must leave code alone)
 * and chunking (which must not cut code when it can avoid it) need to know where they are.
 *
 * A fence may be indented by any amount: turndown nests code blocks inside list items with four spaces, and
 * CommonMark reads those as fences relative to the list item. A fence that is never closed runs to the end of the
 * text, as CommonMark says.
 */

const OPEN_FENCE = /^([ \t]*)(`{3,}|~{3,})(.*)$/;
const CLOSE_FENCE = /^[ \t]*(`{3,}|~{3,})[ \t]*$/;

export interface FenceMarker {
  char: '`' | '~';
  length: number;
}

/** Returns the opening fence on this line, if it is one (backtick fences may not carry backticks in their info). */
export function openingFence(line: string): FenceMarker | undefined {
  const m = OPEN_FENCE.exec(line);
  if (!m) return undefined;
  const fence = m[2]!;
  const char = fence[0] as '`' | '~';
  if (char === '`' && m[3]!.includes('`')) return undefined;
  return { char, length: fence.length };
}

/** Whether this line closes a block opened by `open`. */
export function closesFence(line: string, open: FenceMarker): boolean {
  const m = CLOSE_FENCE.exec(line);
  return !!m && m[1]![0] === open.char && m[1]!.length >= open.length;
}

/** Which lines of `lines` belong to a fenced block: 'open' / 'close' for the fence lines, 'code' inside, 'text' else. */
export type LineKind = 'text' | 'open' | 'code' | 'close';

export function classifyLines(lines: readonly string[]): LineKind[] {
  const kinds: LineKind[] = new Array(lines.length);
  let open: FenceMarker | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (open) {
      if (closesFence(line, open)) {
        kinds[i] = 'close';
        open = undefined;
      } else kinds[i] = 'code';
    } else {
      open = openingFence(line);
      kinds[i] = open ? 'open' : 'text';
    }
  }
  return kinds;
}

/** A fence long enough to wrap `code`: one backtick longer than the longest run of three or more inside it. */
export function fenceFor(code: string): string {
  let longest = 2;
  for (const m of code.matchAll(/`{3,}/g)) longest = Math.max(longest, m[0].length);
  return '`'.repeat(longest + 1);
}
