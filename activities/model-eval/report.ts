/** The evaluation report: the Markdown table of issue 4 (model | text ROUGE-Lsum | ratings RMSE), details, JSON. */
import type { DatasetRef, ModelEvaluation } from '../../lib/schemas/train';

export const fmt4 = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(4));

/** Exactly the table of the issue: one row per model, four decimals, "n/a" where a metric does not apply. */
export function reportTable(evals: readonly ModelEvaluation[]): string {
  return ['| model | text ROUGE-Lsum | ratings RMSE |', '|---|---|---|', ...evals.map((e) => `| ${e.model} | ${fmt4(e.rougeLsum)} | ${fmt4(e.ratingsRmse)} |`)].join('\n');
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${(v * 100).toFixed(1)}%`);

/**
 * Per model: the honest MAE (missing ratings counted as the worst error, like the table's RMSE), the RMSE of the
 * ratings that were read with their coverage, and how many outputs had no readable ratings at all.
 */
export function detailsTable(evals: readonly ModelEvaluation[]): string {
  return [
    '| model | kind | examples | ratings MAE | RMSE of read ratings | ratings coverage | unparsed outputs | format compliance | rated | cost (USD) |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...evals.map(
      (e) =>
        `| ${e.model} | ${e.kind} | ${e.count} | ${fmt4(e.ratingsMae)} | ${fmt4(e.parsedRmse)} | ${pct(e.coverage)} | ${e.unparsed ?? 'n/a'} | ${pct(e.formatCompliance)} | ${e.ratedCount} | ${e.usage ? e.usage.costUsd.toFixed(4) : '-'} |`,
    ),
  ].join('\n');
}

export interface ReportContext {
  name: string;
  dataset: Pick<DatasetRef, 'name' | 'version' | 'testUri' | 'counts'>;
  useStemmer: boolean;
  workflowId?: string;
  runId?: string;
  chartFile: string;
  /** Training loss curves beside the report (files in the report folder). */
  lossCurves?: Array<{ model: string; stage: string; file: string }>;
}

export function reportMarkdown(evals: readonly ModelEvaluation[], c: ReportContext): string {
  return [
    `# Evaluation: ${c.name}`,
    '',
    reportTable(evals),
    '',
    `![chart](${c.chartFile})`,
    '',
    ...(c.lossCurves?.length
      ? ['## Training loss', '', ...c.lossCurves.flatMap((l) => [`![${l.model} ${l.stage.toUpperCase()} loss](${l.file})`, '']), 'Per-step scalars (loss, learning rate, grad norm, tokens/s) are in each run\'s TensorBoard files (docs/training.md, "Tracking").', '']
      : []),
    '## Details',
    '',
    detailsTable(evals),
    '',
    `Test split: ${c.dataset.counts.test} examples of dataset \`${c.dataset.name}\` version \`${c.dataset.version}\` (${c.dataset.testUri}).`,
    `ROUGE-Lsum: F-measure of Google's rouge-score (newline-split sentences, ${c.useStemmer ? 'Porter stemmer' : 'no stemmer'}) on the text part, averaged over examples.`,
    'Ratings RMSE/MAE: over every rating of every test example; a rating the model did not give (or gave off the scale) counts as the worst error on the scale, max(reference − min, max − reference), so dropping ratings never scores better. "RMSE of read ratings" is over the ratings that could be read, next to their coverage.',
    ...(evals.some((e) => e.model === 'train-mean' || e.model === 'nearest-train')
      ? ["Floors (no LLM): train-mean predicts the train split's mean of each rating and writes no text; nearest-train answers with the train example whose prompt is nearest by BM25."]
      : []),
    'Format compliance: share of outputs with the text and every rating in range.',
    `Per-example results: ${evals.map((e) => `[${e.model}](${e.resultsUri})`).join(', ')}.`,
    '',
    `Workflow \`${c.workflowId ?? 'n/a'}\`, run \`${c.runId ?? 'n/a'}\`.`,
    '',
  ].join('\n');
}
