/**
 * Prompt compression: when the numbered sources exceed a token budget (counted with the generator's tokenizer, on
 * the exact text the prompt will hold), the sentences least similar to the question (embedding cosine) are dropped
 * until the context fits. Kept sentences stay in their original order; a source left with nothing is removed and the
 * rest renumbered. Nothing is embedded when the context already fits.
 */
import type { Embedder } from '../lib/embedding/types';
import { formatSources, type PromptSource } from './prompts';
import { joinUnits, splitUnits, type Unit } from './sentences';

export interface TokenCounter {
  count(text: string): number;
}

export interface CompressionReport {
  budget: number;
  tokensBefore: number;
  tokensAfter: number;
  unitsBefore: number;
  unitsAfter: number;
  sourcesDropped: number;
  /** False when even the single best sentence is over the budget (it is kept anyway). */
  fits: boolean;
  ms: number;
}

export interface ScoredUnit {
  source: number;
  index: number;
  score: number;
  tokens: number;
}

/**
 * The pure core: drops the lowest-scoring units until their tokens plus `fixedTokens` fit `budget`, keeping at least
 * the best one. Returns the keys ("source:index") kept.
 */
export function selectUnits(units: readonly ScoredUnit[], fixedTokens: number, budget: number): Set<string> {
  const order = [...units].sort((a, b) => a.score - b.score || b.tokens - a.tokens);
  let total = fixedTokens + units.reduce((n, u) => n + u.tokens, 0);
  const kept = new Set(units.map((u) => `${u.source}:${u.index}`));
  for (const u of order) {
    if (total <= budget || kept.size <= 1) break;
    kept.delete(`${u.source}:${u.index}`);
    total -= u.tokens;
  }
  return kept;
}

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export async function compressSources<S extends PromptSource>(
  question: string,
  sources: readonly S[],
  opts: { budget: number; tokenizer: TokenCounter; embedder: Embedder; scoring?: 'sentence' | 'window' },
): Promise<{ sources: S[]; report: CompressionReport }> {
  const started = performance.now();
  const { budget, tokenizer } = opts;
  const tokensBefore = tokenizer.count(formatSources(sources));
  const split = sources.map((s) => splitUnits(s.text));
  const unitsBefore = split.reduce((n, u) => n + u.length, 0);
  const report = (out: S[], fits: boolean): CompressionReport => ({
    budget,
    tokensBefore,
    tokensAfter: tokenizer.count(formatSources(out)),
    unitsBefore,
    unitsAfter: out.reduce((n, s) => n + splitUnits(s.text).length, 0),
    sourcesDropped: sources.length - out.length,
    fits,
    ms: Math.round(performance.now() - started),
  });
  if (tokensBefore <= budget) return { sources: [...sources], report: report([...sources], true) };

  const flat = split.flatMap((units, source) => units.map((u, index) => ({ source, index, unit: u })));
  // 'window' (default) scores a sentence together with the one before it in its paragraph, so "It does X." is judged
  // with what "it" is; the sentence alone is what is kept or dropped either way. Measured in docs/rag.md.
  const scoredText = (f: (typeof flat)[number]) => {
    const prev = split[f.source]![f.index - 1];
    return (opts.scoring ?? 'window') === 'window' && prev && prev.block === f.unit.block ? `${prev.text} ${f.unit.text}` : f.unit.text;
  };
  const [qv, vectors] = await Promise.all([opts.embedder.embedQuery(question), opts.embedder.embed(flat.map(scoredText))]);
  const scored: ScoredUnit[] = flat.map((f, i) => ({ source: f.source, index: f.index, score: dot(qv, vectors[i]!), tokens: tokenizer.count(f.unit.text) + 1 }));
  // Headers ("[n] title — location") and separators are fixed costs; measure them on empty sources.
  const fixed = tokenizer.count(formatSources(sources.map((s) => ({ ...s, text: '' }))));

  let kept = selectUnits(scored, fixed, budget);
  for (;;) {
    const out = assemble(sources, split, kept);
    const tokens = tokenizer.count(formatSources(out));
    if (tokens <= budget || kept.size <= 1) return { sources: out, report: report(out, tokens <= budget) };
    // Joining can cost a few tokens more than the per-unit estimate: drop the next weakest unit and measure again.
    const weakest = scored.filter((u) => kept.has(`${u.source}:${u.index}`)).sort((a, b) => a.score - b.score)[0]!;
    kept = new Set(kept);
    kept.delete(`${weakest.source}:${weakest.index}`);
  }
}

function assemble<S extends PromptSource>(sources: readonly S[], split: Unit[][], kept: Set<string>): S[] {
  const out: S[] = [];
  sources.forEach((s, si) => {
    const units = split[si]!.filter((_, ui) => kept.has(`${si}:${ui}`));
    if (units.length) out.push({ ...s, n: out.length + 1, text: joinUnits(units) });
  });
  return out;
}
