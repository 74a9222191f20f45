/** The review page, the review and variant settings, the baseline cache key and the card's review line. */
import { describe, expect, it } from 'vitest';
import { baselineCacheKey } from '../../../activities/model-eval/cache';
import { exampleRmse, renderReviewPage, REVIEW_ACTIONS_MARKER } from '../../../activities/model-eval/review';
import type { ExampleResult } from '../../../activities/model-eval/score';
import { reviewLine } from '../../../activities/publish/model-card';
import { type Example, type ModelEvaluation, reviewDecisionSchema, reviewSettingsOf, trainInputSchema } from '../../../lib/schemas/train';

const example = (id: string, user: string): Example => ({ id, messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: user }, { role: 'assistant', content: `ref ${id}` }] });
const result = (id: string, f: number, errors?: Record<string, number>): ExampleResult => ({
  id,
  reference: `ref ${id}`,
  prediction: `<b>out ${id}</b>`,
  rougeLsum: { precision: f, recall: f, fmeasure: f },
  compliant: true,
  ...(errors && { ratingErrors: errors, referenceRatings: { a: 3 } }),
});
const evaluation = (model: string, kind: ModelEvaluation['kind']): ModelEvaluation =>
  ({ model, kind, count: 2, rougeLsum: 0.5, ratingsRmse: null, ratingsMae: null, formatCompliance: 1, ratedCount: 0, perKeyRmse: {}, predictionsUri: '', resultsUri: '' }) as ModelEvaluation;

describe('review page', () => {
  const html = renderReviewPage({
    title: 'demo',
    examples: [example('e1', 'Review A'), example('e2', 'Review B')],
    models: [
      { evaluation: evaluation('gpt', 'baseline'), results: [result('e1', 0.9), result('e2', 0.8)] },
      { evaluation: evaluation('tiny', 'fine-tuned'), results: [result('e1', 0.7, { a: 1, b: -1 }), result('e2', 0.1)] },
    ],
    workflowId: 'train-x-1',
  });

  it('is self-contained, escapes outputs, and sorts by the fine-tuned model by default', () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).toContain('&lt;b&gt;out e1&lt;/b&gt;');
    expect(html).not.toContain('<b>out e1</b>');
    expect(html).toMatch(/id="sort-worst" class="sort" data-model="1" data-metric="rouge"/);
    expect(html).toContain('data-rouge="0.1"');
    expect(html).toContain('Review A');
    expect(html).toContain(REVIEW_ACTIONS_MARKER);
    expect(html).toContain('bin/twinflow train approve train-x-1 --reason');
  });

  it('scores one example: RMSE of its rating errors, null without any', () => {
    expect(exampleRmse(result('e', 1, { a: 1, b: -1 }))).toBe(1);
    expect(exampleRmse(result('e', 1))).toBeNull();
  });
});

describe('review and variant settings', () => {
  it('review: true waits 7 days and rejects on timeout by default', () => {
    expect(reviewSettingsOf(true)).toEqual({ timeout: '7 days', onTimeout: 'reject' });
    expect(reviewSettingsOf(false)).toBeUndefined();
    expect(reviewSettingsOf({ onTimeout: 'publish' })).toEqual({ timeout: '7 days', onTimeout: 'publish' });
  });

  it('a decision needs a reason and who decided', () => {
    expect(reviewDecisionSchema.safeParse({ decision: 'approve', reason: '  ', by: 'me' }).success).toBe(false);
    expect(reviewDecisionSchema.parse({ decision: 'reject', reason: ' bad ', by: 'me' })).toEqual({ decision: 'reject', reason: 'bad', by: 'me' });
  });

  const base = { name: 'x', dataset: { manifestUri: 's3://b/m.json' }, model: { baseModel: 'm', name: 'm' } };
  it('refuses review without publish, duplicate variants, an unknown published variant and a bad override', () => {
    const issues = (input: unknown) => {
      const r = trainInputSchema.safeParse(input);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ ...base, review: true })).toEqual(['review: review decides whether to publish: set publish too']);
    expect(issues({ ...base, variants: [{ name: 'a' }, { name: 'a' }] })).toEqual(['variants: two variants are named "a"']);
    expect(issues({ ...base, variants: [{ name: 'a' }], publish: { repo: 'o/r', gate: { minRougeLsum: 0 }, variant: 'b' } })).toEqual(['publish.variant: no variant is named "b" (have: a)']);
    expect(issues({ ...base, variants: [{ name: 'a', overrides: { training: { maxSeqLength: -1 } } }] })[0]).toMatch(/^variants\.0\.overrides\.training\.maxSeqLength: /);
    expect(issues({ ...base, variants: [{ name: '4K', overrides: { training: { maxSeqLength: 4096 } } }, { name: '8K', overrides: { training: { maxSeqLength: 8192 } } }] })).toEqual([]);
  });
});

describe('baseline answer cache key', () => {
  const k = { baseUrl: 'http://x/v1', model: 'gpt-4o-mini', exampleId: 'e1', messages: [{ role: 'user' as const, content: 'hi' }], temperature: 0, maxTokens: 10 };
  it('changes with the model, the prompt and the example', () => {
    expect(baselineCacheKey(k)).toBe(baselineCacheKey({ ...k }));
    expect(baselineCacheKey({ ...k, model: 'gpt-4o' })).not.toBe(baselineCacheKey(k));
    expect(baselineCacheKey({ ...k, messages: [{ role: 'user', content: 'hi!' }] })).not.toBe(baselineCacheKey(k));
    expect(baselineCacheKey({ ...k, exampleId: 'e2' })).not.toBe(baselineCacheKey(k));
    expect(baselineCacheKey({ ...k, baseUrl: 'http://y/v1' })).not.toBe(baselineCacheKey(k));
  });
});

describe("the model card's review line", () => {
  it('says who decided and why, or that the policy did', () => {
    expect(reviewLine({ decision: 'approve', by: 'ann@host', reason: 'looks\nright', at: '2026-01-01T00:00:00.000Z', timedOut: false })).toBe(
      '- review: approved by ann@host at 2026-01-01T00:00:00.000Z: "looks right"',
    );
    expect(reviewLine({ decision: 'approve', by: 'policy', reason: 'no decision within 1h', at: 't', timedOut: true })).toBe(
      '- review: nobody decided in time; the configured policy published it at t (no decision within 1h)',
    );
  });
});
