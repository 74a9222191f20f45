/**
 * Honest metrics: the ratings parser on real-looking outputs, RMSE over every test example (missing ratings charged
 * the worst error), the no-LLM floor baselines, and a publish gate that an untrained model fails.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { floorPredictions, meanRatings } from '../../../activities/model-eval/baseline';
import { detailsTable } from '../../../activities/model-eval/report';
import { missingRatingError, scorePredictions } from '../../../activities/model-eval/score';
import { checkGate } from '../../../activities/publish/gate';
import { PROJECT_ROOT } from '../../../lib/config';
import { bm25Index } from '../../../lib/metrics/nearest';
import { formatOutput, parseOutput } from '../../../lib/metrics/output-format';
import { type Example, type ModelEvaluation, outputFormatSchema, trainInputSchema } from '../../../lib/schemas/train';

const format = outputFormatSchema.parse({ ratings: { keys: ['overall', 'culture', 'compensation', 'work_life_balance'] } });
const text = 'The team is warm and everyone helps each other.\nPay is fair and raises come every year.';
const all = { overall: 4, culture: 5, compensation: 4, work_life_balance: 3 };

describe('the ratings parser: what it accepts', () => {
  const accepted: Array<[string, string]> = [
    ['the exact format', `${text}\n\nRatings: {"overall": 4, "culture": 5, "compensation": 4, "work_life_balance": 3}`],
    ['bold marker with the colon inside', `${text}\n\n**Ratings:** {"overall": 4, "culture": 5, "compensation": 4, "work_life_balance": 3}`],
    ['bold marker with the colon outside', `${text}\n\n**Ratings**: {"overall":4,"culture":5,"compensation":4,"work_life_balance":3}`],
    ['a JSON code fence after a heading', `${text}\n\n## Ratings\n\`\`\`json\n{\n  "overall": 4,\n  "culture": 5,\n  "compensation": 4,\n  "work_life_balance": 3\n}\n\`\`\``],
    ['lower-case marker, trailing chatter', `${text}\n\nratings: {"overall": 4, "culture": 5, "compensation": 4, "work_life_balance": 3} Hope this helps!\nLet me know if you need more.`],
    ['key: value pairs on one line', `${text}\n\nRatings: overall: 4, culture: 5, compensation: 4, work_life_balance: 3`],
    ['a bullet list, keys in title case with spaces', `${text}\n\nRatings:\n- Overall: 4\n- Culture: 5\n- Compensation: 4\n- Work life balance: 3`],
    ['numeric strings and n/max', `${text}\n\nRatings: {"overall": "4", "culture": "5/5", "compensation": 4.0, "Work-Life-Balance": 3}`],
    ['a JavaScript-style object', `${text}\n\nRatings: {overall: 4, culture: 5, compensation: 4, work_life_balance: 3}`],
    ['CRLF line ends', `${text.replace(/\n/g, '\r\n')}\r\n\r\nRatings: {"overall": 4, "culture": 5, "compensation": 4, "work_life_balance": 3}\r\n`],
  ];
  it.each(accepted)('%s', (_label, output) => {
    expect(parseOutput(output, format)).toMatchObject({ text, ratings: all, compliant: true, missing: [] });
  });

  it('takes the last marker line whose ratings can be read; prose that starts with the word is no marker', () => {
    const out = `Ratings are high across the board.\nRatings: {"overall": 1, "culture": 1, "compensation": 1, "work_life_balance": 1}\nRatings: {"overall": 4, "culture": 5, "compensation": 4, "work_life_balance": 3}\nRatings: n/a`;
    expect(parseOutput(out, format)).toMatchObject({ ratings: all, text: 'Ratings are high across the board.\nRatings: {"overall": 1, "culture": 1, "compensation": 1, "work_life_balance": 1}' });
  });
});

describe('the ratings parser: what it rejects', () => {
  const rejected: Array<[string, string, Partial<ReturnType<typeof parseOutput>>]> = [
    ['no ratings line', text, { ratings: undefined, problem: 'no "Ratings:" line', missing: Object.keys(all) }],
    ['a bare JSON object without the marker', `${text}\n{"overall": 4, "culture": 5, "compensation": 4, "work_life_balance": 3}`, { ratings: undefined, problem: 'no "Ratings:" line' }],
    ['a marker with nothing readable', `${text}\n\nRatings: I would rather not say`, { ratings: undefined, problem: 'ratings are not readable (neither a JSON object nor "key: value" pairs)' }],
    ['an object with none of the keys', `${text}\n\nRatings: {"stars": 4}`, { ratings: undefined, problem: 'the ratings object has none of the keys overall, culture, compensation, work_life_balance' }],
    [
      'values off the scale, on another scale, or not numbers',
      `${text}\n\nRatings: {"overall": 7, "culture": "8/10", "compensation": "good", "work_life_balance": 3}`,
      { ratings: { work_life_balance: 3 }, missing: ['overall', 'culture', 'compensation'], problem: 'overall 7 outside 1..5, culture is not a number ("8/10"), compensation is not a number ("good")' },
    ],
    ['a truncated object keeps what it says', `${text}\n\nRatings: {"overall": 4, "culture": 5, "compens`, { ratings: { overall: 4, culture: 5 }, missing: ['compensation', 'work_life_balance'], problem: 'compensation missing, work_life_balance missing' }],
    ['ratings but no text', 'Ratings: {"overall": 4, "culture": 5, "compensation": 4, "work_life_balance": 3}', { text: '', ratings: all, problem: 'empty text' }],
  ];
  it.each(rejected)('%s', (_label, output, want) => {
    const got = parseOutput(output, format);
    expect(got.compliant).toBe(false);
    expect(got).toMatchObject(want);
  });
});

const ex = (id: string, prompt: string, answer: string, ratings: Record<string, number>): Example => ({
  id,
  messages: [
    { role: 'system', content: 'Review companies.' },
    { role: 'user', content: prompt },
    { role: 'assistant', content: formatOutput(answer, ratings, format) },
  ],
});

/** A test set with varied references, and a model that is off by one on some ratings. */
const refs = Array.from({ length: 12 }, (_, i) => {
  const r = { overall: 1 + (i % 5), culture: 1 + ((i * 2) % 5), compensation: 1 + ((i * 3) % 5), work_life_balance: 1 + ((i + 2) % 5) };
  return ex(`t${i}`, `Review company ${i}`, `Review text number ${i}.`, r);
});
const refRatings = (e: Example) => parseOutput(e.messages[2]!.content, format).ratings!;
const offByOne = (r: Record<string, number>, i: number) => Object.fromEntries(Object.entries(r).map(([k, v], j) => [k, (i + j) % 3 === 0 ? (v === 5 ? 4 : v + 1) : v]));

describe('ratings RMSE over every test example', () => {
  const honestModel = refs.map((e, i) => ({ id: e.id, output: formatOutput(`Review text number ${i}.`, offByOne(refRatings(e), i + 1), format) }));

  it('scores a model that drops the ratings line worse, not better', () => {
    const a = scorePredictions(refs, honestModel, format, { useStemmer: true }).summary;
    // The same model, but it leaves out the ratings line wherever it would have got two ratings wrong.
    const dropper = honestModel.map((p, i) => {
      const wrong = Object.entries(offByOne(refRatings(refs[i]!), i + 1)).filter(([k, v]) => v !== refRatings(refs[i]!)[k]).length;
      return wrong >= 2 ? { id: p.id, output: `Review text number ${i}.` } : p;
    });
    const b = scorePredictions(refs, dropper, format, { useStemmer: true }).summary;
    // The old, flattering rule (errors of the ratings given only) prefers the dropper...
    expect(b.parsedRmse!).toBeLessThan(a.parsedRmse!);
    // ...the reported RMSE and MAE do not, and the coverage and unparsed count say why.
    expect(b.ratingsRmse!).toBeGreaterThan(a.ratingsRmse!);
    expect(b.ratingsMae!).toBeGreaterThan(a.ratingsMae!);
    expect(a.coverage).toBe(1);
    expect(b.coverage!).toBeLessThan(1);
    expect(b.unparsed).toBeGreaterThan(0);
    expect(a.unparsed).toBe(0);
  });

  it('never improves by dropping any single rating (the worst error bounds every rating on the scale)', () => {
    const base = scorePredictions(refs, honestModel, format, { useStemmer: false }).summary.ratingsRmse!;
    for (const [i, e] of refs.entries()) {
      for (const key of Object.keys(all)) {
        const r = { ...offByOne(refRatings(e), i + 1) };
        delete r[key];
        const out = `Review text number ${i}.\n\nRatings: ${JSON.stringify(r)}`;
        const preds = honestModel.map((p) => (p.id === e.id ? { id: p.id, output: out } : p));
        expect(scorePredictions(refs, preds, format, { useStemmer: false }).summary.ratingsRmse!).toBeGreaterThanOrEqual(base);
      }
    }
    expect(missingRatingError(2, { min: 1, max: 5 })).toBe(3);
    expect(missingRatingError(5, { min: 1, max: 5 })).toBe(4);
    expect(missingRatingError(3, { min: 1, max: 5 })).toBe(2);
  });

  it('counts a rating off the scale as missing, not as a big or clamped number', () => {
    const e = refs[0]!; // overall 1, culture 1, compensation 1, work_life_balance 3
    const out = `Review text number 0.\n\nRatings: {"overall": 50, "culture": 1, "compensation": 1, "work_life_balance": 3}`;
    const s = scorePredictions([e], [{ id: e.id, output: out }], format, { useStemmer: false }).summary;
    expect(s.coverage).toBe(0.75);
    expect(s.perKeyCoverage.overall).toBe(0);
    expect(s.ratingsRmse).toBeCloseTo(Math.sqrt(16 / 4), 12); // overall charged |5 - 1| = 4, the rest exact
    expect(s.parsedRmse).toBe(0);
  });
});

describe('floor baselines (no LLM)', () => {
  const train = [
    ex('a', 'Review Blue Harbor: a logistics company in Tampere with 12 employees', 'Drivers plan routes together.', { overall: 5, culture: 5, compensation: 4, work_life_balance: 4 }),
    ex('b', 'Review Iron Forge: a retail company in Gdansk with 300 employees', 'Shifts are long in the shop.', { overall: 2, culture: 3, compensation: 2, work_life_balance: 1 }),
    ex('c', 'Review Clear Labs: a software company in Porto with 45 employees', 'Engineers pair a lot.', { overall: 3, culture: 4, compensation: 3, work_life_balance: 4 }),
  ];
  const tests = [
    ex('x', 'Review Green Works: a retail company in Gdansk with 120 employees', 'Shifts are long and the shop is busy.', { overall: 2, culture: 2, compensation: 2, work_life_balance: 2 }),
    ex('y', 'Review Deep Systems: a software company in Porto with 5,000 employees', 'Engineers pair and review a lot.', { overall: 4, culture: 4, compensation: 3, work_life_balance: 4 }),
  ];

  it('train-mean predicts the mean of each rating on train; nearest-train answers with the BM25-nearest train answer', () => {
    expect(meanRatings(train, format)).toEqual({ overall: 10 / 3, culture: 4, compensation: 3, work_life_balance: 3 });
    const mean = floorPredictions('train-mean', train, tests, format);
    expect(parseOutput(mean[0]!.output, format).ratings).toEqual({ overall: 10 / 3, culture: 4, compensation: 3, work_life_balance: 3 });
    const nearest = floorPredictions('nearest-train', train, tests, format);
    expect(nearest.map((p) => p.output)).toEqual([train[1]!.messages[2]!.content, train[2]!.messages[2]!.content]);
    const idx = bm25Index(['red apples and pears', 'green apples', 'bananas']);
    expect(idx.nearest('green apples please')).toMatchObject({ index: 1 });
    expect(idx.nearest('nothing shared')).toEqual({ index: 0, score: 0 });
  });

  it('are scored by the same rules and appear in the details table', () => {
    const s = scorePredictions(tests, floorPredictions('nearest-train', train, tests, format), format, { useStemmer: true }).summary;
    expect(s.coverage).toBe(1);
    expect(s.rougeLsum!).toBeGreaterThan(0.3);
    const row: ModelEvaluation = { model: 'nearest-train', kind: 'baseline', count: 2, rougeLsum: s.rougeLsum, ratingsRmse: s.ratingsRmse, ratingsMae: s.ratingsMae, parsedRmse: s.parsedRmse, parsedMae: s.parsedMae, coverage: s.coverage, perKeyCoverage: s.perKeyCoverage, unparsed: s.unparsed, formatCompliance: s.formatCompliance, ratedCount: s.ratedCount, perKeyRmse: s.perKeyRmse, predictionsUri: 's3://b/p', resultsUri: 's3://b/r' };
    expect(detailsTable([row])).toContain('| nearest-train | baseline | 2 |');
    expect(detailsTable([row])).toContain('| 100.0% | 0 |');
  });
});

describe('the tiny example gate', () => {
  const config = trainInputSchema.parse(JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'examples/reviews/train-tiny-cpu.json'), 'utf8')));
  const gate = config.publish!.gate;
  const row = (model: string, kind: ModelEvaluation['kind'], m: Partial<ModelEvaluation>): ModelEvaluation => ({
    model, kind, count: 60, rougeLsum: null, ratingsRmse: null, ratingsMae: null, formatCompliance: 0, ratedCount: 0, perKeyRmse: {}, predictionsUri: 's3://b/p', resultsUri: 's3://b/r', coverage: 0, unparsed: 60, ...m,
  });
  // Measured on the shipped example (seed 42 split: 540 train / 60 test examples) through the train workflow with the
  // example's tiny Llama (tests/integration/train/example-gate.test.ts): the floors, the untrained model (one step)
  // and the example's own 1,500-step run.
  const floors = [row('train-mean', 'baseline', { rougeLsum: null, ratingsRmse: 1.3678, coverage: 1, unparsed: 0 }), row('nearest-train', 'baseline', { rougeLsum: 0.3176, ratingsRmse: 0.9916, coverage: 1, unparsed: 0 })];

  it('is the same run in compare-tiny-cpu.json, which adds two variants, a review and the variant to publish', () => {
    const compare = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'examples/reviews/compare-tiny-cpu.json'), 'utf8')) as Record<string, unknown>;
    const tiny = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'examples/reviews/train-tiny-cpu.json'), 'utf8')) as Record<string, unknown>;
    const { name, variants, review, publish, ...rest } = compare;
    const { name: tinyName, publish: tinyPublish, ...tinyRest } = tiny;
    expect(rest).toEqual(tinyRest);
    expect({ ...(publish as object), variant: undefined }).toEqual(tinyPublish);
    expect(name).not.toBe(tinyName);
    expect((variants as Array<{ name: string }>).map((v) => v.name)).toContain((publish as { variant: string }).variant);
    expect(trainInputSchema.parse(compare).review).toEqual(review);
  });

  it('is a gate that can fail: the floors are evaluated and the gate names them', () => {
    expect(config.evaluation.floors).toEqual(['train-mean', 'nearest-train']);
    expect(gate).toEqual({ minCoverage: 0.5, beatBaseline: ['train-mean', 'nearest-train'] });
  });

  it('fails an untrained model (random text, no ratings line) and passes the trained example run', () => {
    const untrained = row('tiny-llama-lora', 'fine-tuned', { rougeLsum: 0.0062, ratingsRmse: 3.2197, coverage: 0, unparsed: 60 });
    const no = checkGate(gate, untrained, floors);
    expect(no.passed).toBe(false);
    expect(no.reasons).toEqual([
      'FAIL: ratings coverage 0.0000 ≥ 0.5',
      'FAIL: ratings RMSE 3.2197 < train-mean 1.3678',
      'FAIL: ROUGE-Lsum 0.0062 > nearest-train 0.3176',
      'FAIL: ratings RMSE 3.2197 < nearest-train 0.9916',
    ]);
    const trained = row('tiny-llama-lora', 'fine-tuned', { rougeLsum: 0.3807, ratingsRmse: 0.3354, coverage: 1, unparsed: 0, formatCompliance: 1 });
    const yes = checkGate(gate, trained, floors);
    expect(yes.reasons.filter((r) => r.startsWith('FAIL'))).toEqual([]);
    expect(yes.passed).toBe(true);
    // Beating only one floor is not enough, and a margin makes the comparison stricter.
    expect(checkGate(gate, { ...trained, rougeLsum: 0.3 }, floors).passed).toBe(false);
    expect(checkGate(gate, { ...trained, ratingsRmse: 1.1 }, floors).passed).toBe(false);
    expect(checkGate({ ...gate, beatMargin: 0.7 }, trained, floors).reasons).toContain('FAIL: ratings RMSE 0.3354 < nearest-train 0.9916 by 0.7');
  });

  it('fails a model that writes good ratings for only some of the examples', () => {
    // Ratings read for 40% of the test examples: under the coverage floor whatever their error.
    const partial = row('tiny-llama-lora', 'fine-tuned', { rougeLsum: 0.39, ratingsRmse: 2.1, parsedRmse: 0.2, coverage: 0.4, unparsed: 36 });
    expect(checkGate(gate, partial, floors).reasons).toContain('FAIL: ratings coverage 0.4000 ≥ 0.5');
  });
});
