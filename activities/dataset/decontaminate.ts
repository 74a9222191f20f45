/**
 * n-gram decontamination of the test split against train, as in the contamination analyses of GPT-3 (Brown et al.,
 * 2020, appendix C: 13-gram overlap) and later LLM reports: a test example is contaminated when any run of `n`
 * consecutive words of its text also occurs in a train example. Near-duplicate removal (dedupe.ts) compares whole
 * examples; this catches a test example that shares one long passage with a training example that is otherwise
 * different (a copied sentence, a quoted paragraph, the same boilerplate answer).
 *
 * Compared text: the user turns and the assistant's text part (the ratings line is a label, not text, and two
 * reviews with the same ratings would otherwise share it), normalised like dedupe.ts (case, accents, punctuation
 * folded). The shared system prompt is left out. A test text shorter than n words has no n-gram and is not flagged
 * here (its verbatim copies are exact duplicates, removed before the split).
 */
import { parseOutput } from '../../lib/metrics/output-format';
import type { Example, OutputFormat } from '../../lib/schemas/train';
import { normalizeForDedupe } from './dedupe';

export interface DecontaminationOptions {
  n: number;
  format: OutputFormat;
}

export interface Contamination {
  /** The test example. */
  id: string;
  /** A train example it shares an n-gram with, and that n-gram (normalised words). */
  trainId: string;
  ngram: string;
  /** How many of the test example's n-grams occur in train. */
  overlapping: number;
}

/** The text an example is checked on: user turns and the assistant's text without the ratings line. */
export function decontaminationText(e: Example, format: OutputFormat): string {
  return e.messages
    .filter((m) => m.role !== 'system')
    .map((m) => (m.role === 'assistant' ? parseOutput(m.content, format).text : m.content))
    .join('\n');
}

function ngrams(text: string, n: number): string[] {
  const words = normalizeForDedupe(text).split(' ').filter(Boolean);
  const out: string[] = [];
  for (let i = 0; i + n <= words.length; i += 1) out.push(words.slice(i, i + n).join(' '));
  return out;
}

/** The test examples that share a word n-gram with train; `clean` is the rest, in input order. */
export function findContamination(train: readonly Example[], test: readonly Example[], o: DecontaminationOptions): { clean: Example[]; contaminated: Contamination[] } {
  // n-gram → the first train example that has it (memory: one entry per distinct train n-gram).
  const seen = new Map<string, string>();
  for (const e of train) for (const g of ngrams(decontaminationText(e, o.format), o.n)) if (!seen.has(g)) seen.set(g, e.id);
  const clean: Example[] = [];
  const contaminated: Contamination[] = [];
  for (const e of test) {
    let first: { g: string; trainId: string } | undefined;
    let overlapping = 0;
    for (const g of new Set(ngrams(decontaminationText(e, o.format), o.n))) {
      const trainId = seen.get(g);
      if (trainId === undefined) continue;
      overlapping += 1;
      first ??= { g, trainId };
    }
    if (first) contaminated.push({ id: e.id, trainId: first.trainId, ngram: first.g, overlapping });
    else clean.push(e);
  }
  return { clean, contaminated };
}
