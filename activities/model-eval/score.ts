/**
 * Scores predictions against the test split: text ROUGE-Lsum (rouge-score's F-measure) on the text parts; ratings
 * RMSE and MAE over every rating of every test example, a rating the model did not give counting by the stated
 * missing-rating rule (below), next to the RMSE/MAE of the ratings it did give and the coverage; output-format
 * compliance; and a result per example.
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
  /** Prediction minus reference per key; for a missing rating, the error the missing-rating rule charges. */
  ratingErrors?: Record<string, number>;
  /** Keys whose rating could not be read from the prediction (scored by MISSING_RATING_RULE). */
  missingRatings?: string[];
  error?: string;
}

export interface ScoreSummary {
  count: number;
  rougeLsum: number | null;
  /** Over every (example, rating) of the test split; a rating that could not be read counts by MISSING_RATING_RULE. */
  ratingsRmse: number | null;
  ratingsMae: number | null;
  /** Over the ratings that were read only (flattering when coverage is low; reported next to the coverage). */
  parsedRmse: number | null;
  parsedMae: number | null;
  /** Ratings read / ratings expected (null for a text-only format). */
  coverage: number | null;
  perKeyCoverage: Record<string, number | null>;
  formatCompliance: number;
  /** Examples whose every rating could be read. */
  ratedCount: number;
  /** Outputs from which no rating at all could be read (no ratings line, or an unreadable one). */
  unparsed: number;
  /** RMSE per key, by the same rule as ratingsRmse. */
  perKeyRmse: Record<string, number | null>;
  missingPredictions: number;
}

/**
 * The rule for a rating the model did not give (or gave off the scale): it counts as the worst error a prediction on
 * the scale could make for that reference, max(reference − min, max − reference). Dropping a rating therefore never
 * scores better than any rating the model could have written.
 */
export const MISSING_RATING_RULE = 'worst' as const;

export function missingRatingError(reference: number, scale: { min: number; max: number }): number {
  return Math.max(reference - scale.min, scale.max - reference);
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
  const spec = format.ratings;
  const keys = spec?.keys ?? [];
  const parsedPairs: Array<[number, number]> = [];
  const allPairs: Array<[number, number]> = [];
  const perKey = new Map<string, { all: Array<[number, number]>; read: number; expected: number }>(keys.map((k) => [k, { all: [], read: 0, expected: 0 }]));
  const results: ExampleResult[] = [];
  let missing = 0;
  let rated = 0;
  let unparsed = 0;
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
    if (spec && ref.ratings) {
      r.referenceRatings = ref.ratings;
      if (pred.ratings) r.predictedRatings = pred.ratings;
      else unparsed += 1;
      r.ratingErrors = {};
      let all = true;
      for (const k of keys) {
        const want = ref.ratings[k];
        if (want === undefined) continue;
        const got = pred.ratings?.[k];
        const stats = perKey.get(k)!;
        stats.expected += 1;
        if (got === undefined) {
          all = false;
          // Scored as the far end of the scale from the reference: the worst error a rating on the scale can make.
          const standIn = want - spec.min >= spec.max - want ? spec.min : spec.max;
          allPairs.push([standIn, want]);
          stats.all.push([standIn, want]);
          (r.missingRatings ??= []).push(k);
          r.ratingErrors[k] = standIn - want;
          continue;
        }
        stats.read += 1;
        r.ratingErrors[k] = got - want;
        parsedPairs.push([got, want]);
        allPairs.push([got, want]);
        stats.all.push([got, want]);
      }
      if (all) rated += 1;
    }
    results.push(r);
  }
  const parsed = regressionErrors(parsedPairs);
  const honest = regressionErrors(allPairs);
  const expected = allPairs.length;
  return {
    results,
    summary: {
      count: examples.length,
      rougeLsum: mean(results.map((r) => r.rougeLsum.fmeasure)),
      ratingsRmse: spec ? honest.rmse : null,
      ratingsMae: spec ? honest.mae : null,
      parsedRmse: spec ? parsed.rmse : null,
      parsedMae: spec ? parsed.mae : null,
      coverage: spec && expected > 0 ? parsedPairs.length / expected : null,
      perKeyCoverage: Object.fromEntries(keys.map((k) => [k, perKey.get(k)!.expected ? perKey.get(k)!.read / perKey.get(k)!.expected : null])),
      formatCompliance: examples.length ? results.filter((r) => r.compliant).length / examples.length : 0,
      ratedCount: rated,
      unparsed,
      perKeyRmse: Object.fromEntries(keys.map((k) => [k, regressionErrors(perKey.get(k)!.all).rmse])),
      missingPredictions: missing,
    },
  };
}
