/**
 * ROUGE-L and ROUGE-Lsum exactly as Google's `rouge-score` package computes them (`RougeScorer(["rougeLsum"],
 * use_stemmer=...)`), so numbers reported by twinflow compare with numbers reported elsewhere:
 *
 * - tokenizer: lowercase, every run of characters outside [a-z0-9] becomes a space, split on whitespace, Porter-stem
 *   (NLTK's variant) tokens longer than 3 characters when stemming is on, keep only [a-z0-9]+ tokens;
 * - rougeLsum: sentences are the non-empty lines of each text; the score is the summary-level LCS of the ROUGE paper
 *   (section 3.2): for each reference sentence the union of its LCS with every predicted sentence, with token counts
 *   capped so that no token is matched more often than it occurs in either text (as ROUGE 1.5.5 does).
 *
 * The LCS back-trace picks the same one of several longest subsequences as the reference implementation does,
 * which matters for the union. Parity is tested against fixtures produced by the Python package.
 */
import { porterStem } from './porter';

export interface RougeScore {
  precision: number;
  recall: number;
  fmeasure: number;
}

export interface RougeOptions {
  /** Porter-stem tokens longer than 3 characters (rouge-score's `use_stemmer`). Default false, like the package. */
  useStemmer?: boolean;
}

const NON_ALPHANUM = /[^a-z0-9]+/g;
const SPACES = /\s+/;
const VALID_TOKEN = /^[a-z0-9]+$/;

const stemCache = new Map<string, string>();
function stemCached(token: string): string {
  let s = stemCache.get(token);
  if (s === undefined) {
    s = porterStem(token);
    if (stemCache.size > 100_000) stemCache.clear();
    stemCache.set(token, s);
  }
  return s;
}

/** rouge-score's `tokenize.tokenize(text, stemmer)`. */
export function rougeTokenize(text: string, useStemmer = false): string[] {
  const tokens = text.toLowerCase().replace(NON_ALPHANUM, ' ').split(SPACES);
  const out: string[] = [];
  for (const raw of tokens) {
    const t = useStemmer && raw.length > 3 ? stemCached(raw) : raw;
    if (VALID_TOKEN.test(t)) out.push(t);
  }
  return out;
}

function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

const ZERO: RougeScore = { precision: 0, recall: 0, fmeasure: 0 };

/** The (rows+1)×(cols+1) LCS length table, flattened. */
function lcsTable(ref: readonly string[], can: readonly string[]): Int32Array {
  const cols = can.length + 1;
  const t = new Int32Array((ref.length + 1) * cols);
  for (let i = 1; i <= ref.length; i += 1) {
    for (let j = 1; j <= can.length; j += 1) {
      t[i * cols + j] = ref[i - 1] === can[j - 1] ? t[(i - 1) * cols + j - 1]! + 1 : Math.max(t[(i - 1) * cols + j]!, t[i * cols + j - 1]!);
    }
  }
  return t;
}

/** Indices into `ref` of one longest common subsequence, chosen as rouge-score's `_backtrack_norec` does. */
function lcsIndices(ref: readonly string[], can: readonly string[]): number[] {
  const t = lcsTable(ref, can);
  const cols = can.length + 1;
  let i = ref.length;
  let j = can.length;
  const out: number[] = [];
  while (i > 0 && j > 0) {
    if (ref[i - 1] === can[j - 1]) {
      out.push(i - 1);
      i -= 1;
      j -= 1;
    } else if (t[i * cols + j - 1]! > t[(i - 1) * cols + j]!) {
      j -= 1;
    } else {
      i -= 1;
    }
  }
  return out.reverse();
}

/** ROUGE-L over whole texts (no sentence split). */
export function rougeL(reference: string, prediction: string, options: RougeOptions = {}): RougeScore {
  const ref = rougeTokenize(reference, options.useStemmer);
  const can = rougeTokenize(prediction, options.useStemmer);
  if (ref.length === 0 || can.length === 0) return { ...ZERO };
  const t = lcsTable(ref, can);
  const lcs = t[t.length - 1]!;
  const precision = lcs / can.length;
  const recall = lcs / ref.length;
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

/** rouge-score splits Lsum texts on "\n" only and drops empty lines (a line of spaces stays, with no tokens). */
function sentences(text: string): string[] {
  return text.split('\n').filter((s) => s.length > 0);
}

function countTokens(sents: readonly string[][]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of sents) for (const t of s) counts.set(t, (counts.get(t) ?? 0) + 1);
  return counts;
}

/** ROUGE-Lsum (summary-level LCS) of a prediction against a reference. */
export function rougeLsum(reference: string, prediction: string, options: RougeOptions = {}): RougeScore {
  const refSents = sentences(reference).map((s) => rougeTokenize(s, options.useStemmer));
  const canSents = sentences(prediction).map((s) => rougeTokenize(s, options.useStemmer));
  if (refSents.length === 0 || canSents.length === 0) return { ...ZERO };
  const m = refSents.reduce((a, s) => a + s.length, 0);
  const n = canSents.reduce((a, s) => a + s.length, 0);
  if (m === 0 || n === 0) return { ...ZERO };

  const refCounts = countTokens(refSents);
  const canCounts = countTokens(canSents);
  let hits = 0;
  for (const r of refSents) {
    const union = new Set<number>();
    for (const c of canSents) for (const idx of lcsIndices(r, c)) union.add(idx);
    for (const idx of [...union].sort((a, b) => a - b)) {
      const token = r[idx]!;
      const inCan = canCounts.get(token) ?? 0;
      const inRef = refCounts.get(token) ?? 0;
      if (inCan > 0 && inRef > 0) {
        hits += 1;
        canCounts.set(token, inCan - 1);
        refCounts.set(token, inRef - 1);
      }
    }
  }
  const recall = hits / m;
  const precision = hits / n;
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}
