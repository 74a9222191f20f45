/**
 * Scores predictions against the test split: text ROUGE-Lsum (rouge-score's F-measure) on the text parts, ratings
 * RMSE and MAE over every rating the prediction gives, output-format compliance, and a result per example.
 * Pure: the activity feeds it what it read from S3.
 */
import { parseOutput } from '../../lib/metrics/output-format';
import { mean, regressionErrors } from '../../lib/metrics/regression';
import { rougeLsum } from '../../lib/metrics/rouge';
import type { Example, OutputFormat } from '../../lib/schemas/train';

export interface Prediction {
  id: string;
  output: string;
  error?: string;
}

export interface ExampleResult {
  id: string;
  reference: string;
  prediction: string;
  rougeLsum: { precision: number; recall: number; fmeasure: number };
  compliant: boolean;
  problem?: string;
  referenceRatings?: Record<string, number>;
  predictedRatings?: Record<string, number>;
  ratingErrors?: Record<string, number>;
  error?: string;
}

export interface ScoreSummary {
  count: number;
  rougeLsum: number | null;
  ratingsRmse: number | null;
  ratingsMae: number | null;
  formatCompliance: number;
  ratedCount: number;
  perKeyRmse: Record<string, number | null>;
  missingPredictions: number;
}

/** The reference answer of an example: its last assistant turn. */
export function referenceOf(e: Example): string {
  for (let i = e.messages.length - 1; i >= 0; i -= 1) if (e.messages[i]!.role === 'assistant') return e.messages[i]!.content;
  return '';
}

export function scorePredictions(
  examples: readonly Example[],
  predictions: readonly Prediction[],
  format: OutputFormat,
  o: { useStemmer: boolean },
): { results: ExampleResult[]; summary: ScoreSummary } {
  const byId = new Map(predictions.map((p) => [p.id, p]));
  const keys = format.ratings?.keys ?? [];
  const pairs: Array<[number, number]> = [];
  const perKey = new Map<string, Array<[number, number]>>(keys.map((k) => [k, []]));
  const results: ExampleResult[] = [];
  let missing = 0;
  let rated = 0;
  for (const e of examples) {
    const reference = referenceOf(e);
    const p = byId.get(e.id);
    if (!p) missing += 1;
    const prediction = p?.output ?? '';
    const ref = parseOutput(reference, format);
    const pred = parseOutput(prediction, format);
    const r: ExampleResult = {
      id: e.id,
      reference,
      prediction,
      rougeLsum: rougeLsum(ref.text, pred.text, { useStemmer: o.useStemmer }),
      compliant: pred.compliant,
      ...(pred.problem && { problem: pred.problem }),
      ...(p?.error && { error: p.error }),
      ...(!p && { error: 'no prediction' }),
    };
    if (format.ratings && ref.ratings) {
      r.referenceRatings = ref.ratings;
      if (pred.ratings) {
        r.predictedRatings = pred.ratings;
        r.ratingErrors = {};
        let all = true;
        for (const k of keys) {
          const want = ref.ratings[k];
          const got = pred.ratings[k];
          if (want === undefined || got === undefined) {
            all = false;
            continue;
          }
          r.ratingErrors[k] = got - want;
          pairs.push([got, want]);
          perKey.get(k)!.push([got, want]);
        }
        if (all) rated += 1;
      }
    }
    results.push(r);
  }
  const errors = regressionErrors(pairs);
  return {
    results,
    summary: {
      count: examples.length,
      rougeLsum: mean(results.map((r) => r.rougeLsum.fmeasure)),
      ratingsRmse: format.ratings ? errors.rmse : null,
      ratingsMae: format.ratings ? errors.mae : null,
      formatCompliance: examples.length ? results.filter((r) => r.compliant).length / examples.length : 0,
      ratedCount: rated,
      perKeyRmse: Object.fromEntries(keys.map((k) => [k, regressionErrors(perKey.get(k)!).rmse])),
      missingPredictions: missing,
    },
  };
}
