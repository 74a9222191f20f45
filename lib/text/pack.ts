/**
 * The two low-level pieces of chunking: cutting a span of Markdown into atoms (the smallest units a chunk edge may
 * fall between: words, CJK ideographs, whole code blocks), each with its token count and how good a place its left
 * edge is to cut; and packing atoms into windows of at most `budget` tokens, with optional overlap.
 *
 * Counting. Tokenizing every candidate window would be slow, so windows are sized by adding up their atoms' counts
 * (words repeat, so those are cached). For an "additive" tokenizer that sum is the exact count; for any other one,
 * each window is measured as a whole and shrunk until it fits, so the budget is always a hard limit in the real
 * tokenizer's tokens.
 *
 * A tokenizer is additive when it declares `additive: true`: its count of a text equals the sum of the counts of
 * the pieces this module cuts. BERT's WordPiece tokenizers (MiniLM's among them) are: their normaliser turns every
 * whitespace character into a space and pads CJK ideographs with spaces, and their pre-tokenizer splits at spaces
 * before WordPiece sees a word, so pieces cut at whitespace and around those ideographs are tokenized independently.
 * The piece pattern below follows the same character classes (JavaScript whitespace less the format and control
 * characters the normaliser deletes; the ideograph ranges it pads).
 */
import type { Tokenizer } from '../embedding/types';
import type { Block } from './markdown-sections';

/** How good a cut is: between blocks, after a sentence or line, between words, inside a word (last resort). */
export const BREAK = { block: 3, sentence: 2, word: 1, char: 0 } as const;

export interface Atom {
  start: number;
  end: number;
  tokens: number;
  /** Quality of a cut just before this atom (see BREAK). */
  cut: number;
  /** Cut from the previous atom inside a word: counts do not add up across this edge. */
  glued?: boolean;
}

function isAdditive(tokenizer: Tokenizer): boolean {
  return (tokenizer as Tokenizer & { additive?: unknown }).additive === true;
}

/** Counts tokens; the counts of pieces (words, mostly) are cached, since a text repeats its words. */
export class TokenCounter {
  private readonly cache = new Map<string, number>();
  readonly additive: boolean;

  constructor(readonly tokenizer: Tokenizer) {
    this.additive = isAdditive(tokenizer);
  }

  piece(text: string): number {
    let n = this.cache.get(text);
    if (n === undefined) {
      n = this.tokenizer.count(text);
      if (this.cache.size < 200_000) this.cache.set(text, n);
    }
    return n;
  }

  exact(text: string): number {
    return this.tokenizer.count(text);
  }
}

/** The ideographs BERT's normaliser surrounds with spaces (its `is_chinese_char`, basic multilingual plane). */
const IDEOGRAPH = '\\u3400-\\u4DBF\\u4E00-\\u9FFF\\uF900-\\uFAFF';
/** Whitespace that BERT's normaliser turns into a space (it deletes \v, \f and U+FEFF instead, so they are not here). */
const SPACE = '\\t\\n\\r \\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';
const PIECE = new RegExp(`[${IDEOGRAPH}]|[^${SPACE}${IDEOGRAPH}]+`, 'g');
/** Ends a sentence: terminal punctuation, optionally followed by closing quotes or brackets. */
const SENTENCE_END = /[.!?…。！？；][)"'”’»\]]*$/u;

/** Splits a piece longer than the budget into parts that each fit (by characters: the last resort). */
function splitLongPiece(text: string, start: number, budget: number, counter: TokenCounter, out: Atom[], cut: number): void {
  const chars = Array.from(text);
  let from = 0;
  let offset = start;
  while (from < chars.length) {
    // Longest prefix of the rest that fits, by binary search on the number of characters.
    let lo = 1;
    let hi = chars.length - from;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (counter.exact(chars.slice(from, from + mid).join('')) <= budget) lo = mid;
      else hi = mid - 1;
    }
    const part = chars.slice(from, from + lo).join('');
    out.push({ start: offset, end: offset + part.length, tokens: counter.exact(part), cut: from === 0 ? cut : BREAK.char, glued: from > 0 });
    offset += part.length;
    from += lo;
  }
}

/**
 * Atoms of `markdown[from, to)`, which spans whole or clipped blocks. A fenced code block that fits the budget is one
 * atom, so no window edge falls inside it; a larger one is cut like text, preferring its line ends.
 */
export function buildAtoms(markdown: string, blocks: readonly Block[], from: number, to: number, budget: number, counter: TokenCounter): Atom[] {
  const atoms: Atom[] = [];
  for (const block of blocks) {
    const start = Math.max(block.start, from);
    const end = Math.min(block.end, to);
    if (end <= start) continue;
    const text = markdown.slice(start, end);
    if (block.kind === 'code' && start === block.start && end === block.end) {
      // Cached: the same code block is measured for its parent and again for its children.
      const tokens = counter.piece(text);
      if (tokens <= budget) {
        atoms.push({ start, end, tokens, cut: BREAK.block });
        continue;
      }
    }
    let firstInBlock = true;
    let lineStart = start;
    for (const line of text.split('\n')) {
      let firstInLine = true;
      for (const m of line.matchAll(PIECE)) {
        const piece = m[0];
        const pieceStart = lineStart + m.index;
        const previous = atoms[atoms.length - 1];
        const afterSentence = !!previous && SENTENCE_END.test(markdown.slice(previous.start, previous.end));
        const cut = firstInBlock ? BREAK.block : firstInLine || afterSentence ? BREAK.sentence : BREAK.word;
        const tokens = counter.piece(piece);
        if (tokens <= budget) atoms.push({ start: pieceStart, end: pieceStart + piece.length, tokens, cut });
        else splitLongPiece(piece, pieceStart, budget, counter, atoms, cut);
        firstInBlock = false;
        firstInLine = false;
      }
      lineStart += line.length + 1;
    }
  }
  return atoms;
}

/** Token counts of runs of atoms: prefix sums, exact where the tokenizer is additive and no glued edge is inside. */
export class AtomRuns {
  private readonly prefix: number[];
  private readonly glue: number[];

  constructor(
    private readonly markdown: string,
    readonly atoms: readonly Atom[],
    private readonly counter: TokenCounter,
  ) {
    this.prefix = [0];
    this.glue = [0];
    for (const atom of atoms) {
      this.prefix.push(this.prefix[this.prefix.length - 1]! + atom.tokens);
      this.glue.push(this.glue[this.glue.length - 1]! + (atom.glued ? 1 : 0));
    }
  }

  /** Sum of the atoms' own counts over [a, b). */
  sum(a: number, b: number): number {
    return this.prefix[b]! - this.prefix[a]!;
  }

  /** The real token count of the text from atom a to atom b-1. */
  measure(a: number, b: number): number {
    const gluedInside = this.glue[b]! - this.glue[a + 1]! > 0;
    if (this.counter.additive && !gluedInside) return this.sum(a, b);
    return this.counter.exact(this.markdown.slice(this.atoms[a]!.start, this.atoms[b - 1]!.end));
  }
}

export interface PackOptions {
  budget: number;
  /** Tokens the start of a window may repeat from the end of the previous one (0: windows partition the atoms). */
  overlap: number;
  /** A last window that adds fewer new tokens than this is merged into the one before, or made bigger. */
  minTail: number;
  /** Cut qualities above this count as equal (children treat block and sentence ends alike). */
  maxCut: number;
}

/** A window of atoms [from, to) and its exact token count. */
export interface Window {
  from: number;
  to: number;
  tokens: number;
}

/**
 * Packs atoms into windows of at most `budget` tokens. Each window is first grown greedily, then its end moves back to
 * the best cut that keeps it at least half full (a block end rather than a sentence end, a sentence end rather than
 * a word break); the next window starts at the best cut within the overlap allowance before that end.
 */
export function packAtoms(runs: AtomRuns, opts: PackOptions): Window[] {
  const atoms = runs.atoms;
  const n = atoms.length;
  if (n === 0) return [];
  const cutAt = (k: number): number => Math.min(atoms[k]!.cut, opts.maxCut);

  const windows: Window[] = [];
  let i = 0;
  // Every window must end past the previous one, or packing would not advance.
  let minEnd = 1;
  while (i < n) {
    let j = i + 1;
    while (j < n && runs.sum(i, j + 1) <= opts.budget) j++;
    j = Math.max(j, minEnd);
    let end = j;
    if (j < n) {
      // Best cut in [minEnd, j] that keeps at least half the budget; among equals, the latest.
      let bestCut = -1;
      for (let k = j; k >= minEnd && runs.sum(i, k) >= opts.budget / 2; k--) {
        if (cutAt(k) > bestCut) {
          bestCut = cutAt(k);
          end = k;
        }
      }
    }
    // Exact for additive tokenizers; for others, shrink until the real count fits.
    let tokens = runs.measure(i, end);
    while (tokens > opts.budget && end > minEnd) tokens = runs.measure(i, --end);
    while (tokens > opts.budget && i < end - 1) tokens = runs.measure(++i, end);
    windows.push({ from: i, to: end, tokens });
    if (end >= n) break;
    minEnd = end + 1;

    let next = end;
    if (opts.overlap > 0) {
      // Candidates repeat at most `overlap` tokens and leave room for the atom after `end`, so windows advance.
      // Prefer the best cut among those repeating at least half the allowance, else the largest overlap.
      let best = -1;
      let bestCut = -1;
      let widest = end;
      for (let k = end - 1; k > i; k--) {
        const repeated = runs.sum(k, end);
        if (repeated > opts.overlap || repeated + atoms[end]!.tokens > opts.budget) break;
        widest = k;
        if (repeated >= opts.overlap / 2 && cutAt(k) > bestCut) {
          bestCut = cutAt(k);
          best = k;
        }
      }
      next = best >= 0 ? best : widest;
    }
    i = next;
  }

  // A tail that adds fewer than minTail new tokens: fold it into the window before when that fits; otherwise make it
  // bigger without breaking the budget (with overlap, by starting it earlier; without, by moving the previous
  // window's end back to a good cut).
  if (windows.length >= 2) {
    const last = windows[windows.length - 1]!;
    const previous = windows[windows.length - 2]!;
    if (runs.sum(previous.to, n) < opts.minTail) {
      const merged = runs.measure(previous.from, n);
      if (merged <= opts.budget) {
        windows.splice(windows.length - 2, 2, { from: previous.from, to: n, tokens: merged });
      } else if (opts.overlap > 0) {
        let from = last.from;
        while (from - 1 > previous.from && runs.sum(from - 1, n) <= opts.budget) from--;
        let tokens = runs.measure(from, n);
        while (tokens > opts.budget && from < last.from) tokens = runs.measure(++from, n);
        windows[windows.length - 1] = { from, to: n, tokens };
      } else {
        let cut = -1;
        let bestCut = -1;
        for (let k = previous.to - 1; k > previous.from && runs.sum(k, n) <= opts.budget; k--) {
          if (runs.sum(k, n) >= opts.minTail && cutAt(k) > bestCut) {
            bestCut = cutAt(k);
            cut = k;
          }
        }
        if (cut > 0) {
          const tailTokens = runs.measure(cut, n);
          if (tailTokens <= opts.budget) {
            windows.splice(windows.length - 2, 2, { from: previous.from, to: cut, tokens: runs.measure(previous.from, cut) }, { from: cut, to: n, tokens: tailTokens });
          }
        }
      }
    }
  }
  return windows;
}
