import { MockActivityEnvironment } from '@temporalio/testing';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baselineMessages, pickShots } from '../../../activities/model-eval/baseline';
import { renderChart } from '../../../activities/model-eval/chart';
import { reportTable } from '../../../activities/model-eval/report';
import { scorePredictions } from '../../../activities/model-eval/score';
import { trainerConfig } from '../../../activities/gpu/fine-tune';
import { createPublishActivities } from '../../../activities/publish';
import { checkGate } from '../../../activities/publish/gate';
import { modelCard } from '../../../activities/publish/model-card';
import { createDeps } from '../../../activities/deps';
import { loadConfig } from '../../../lib/config';
import { formatOutput } from '../../../lib/metrics/output-format';
import { type Example, type ModelEvaluation, outputFormatSchema, publishSchema, trainingSchema, trainInputSchema } from '../../../lib/schemas/train';
import { parseInput } from '../../../lib/schemas/validate';
import { type HfHubServer, startHfHubServer } from '../../helpers/hf-hub-server';

const format = outputFormatSchema.parse({ ratings: { keys: ['overall', 'culture'] } });
const ex = (id: string, text: string, overall: number, culture: number): Example => ({
  id,
  messages: [
    { role: 'system', content: 'Review companies.' },
    { role: 'user', content: `Review ${id}` },
    { role: 'assistant', content: formatOutput(text, { overall, culture }, format) },
  ],
});
const tests = [ex('a', 'Great team.\nFair pay.', 5, 4), ex('b', 'Long hours.', 2, 3), ex('c', 'Average place.', 3, 3)];

const evaluation = (model: string, kind: ModelEvaluation['kind'], rougeLsum: number | null, ratingsRmse: number | null, formatCompliance = 1): ModelEvaluation => ({
  model,
  kind,
  count: 3,
  rougeLsum,
  ratingsRmse,
  ratingsMae: ratingsRmse,
  formatCompliance,
  ratedCount: 3,
  perKeyRmse: {},
  predictionsUri: `s3://b/${model}.jsonl`,
  resultsUri: `s3://b/${model}-results.jsonl`,
});

describe('scoring predictions', () => {
  it('scores ratings over every test example (a missing rating is the worst error), next to the read-only RMSE and coverage', () => {
    const { results, summary } = scorePredictions(
      tests,
      [
        { id: 'a', output: formatOutput('Great team.\nFair pay.', { overall: 4, culture: 4 }, format) },
        { id: 'b', output: 'Long hours, no ratings' },
      ],
      format,
      { useStemmer: true },
    );
    expect(results[0]!.rougeLsum.fmeasure).toBe(1);
    expect(results[0]!.ratingErrors).toEqual({ overall: -1, culture: 0 });
    expect(results[1]).toMatchObject({ compliant: false, problem: 'no "Ratings:" line', missingRatings: ['overall', 'culture'] });
    // b's references are 2 and 3 on a 1-5 scale: the worst ratings on the scale are 5 (error 3) and 1 or 5 (error 2).
    expect(results[1]!.ratingErrors).toEqual({ overall: 3, culture: -2 });
    expect(results[2]).toMatchObject({ prediction: '', error: 'no prediction', compliant: false });
    expect(summary.count).toBe(3);
    expect(summary.parsedRmse).toBeCloseTo(Math.sqrt(1 / 2), 12); // over the two ratings given
    expect(summary.parsedMae).toBeCloseTo(0.5, 12);
    expect(summary.ratingsRmse).toBeCloseTo(Math.sqrt((1 + 0 + 9 + 4 + 4 + 4) / 6), 12); // over all six
    expect(summary.ratingsMae).toBeCloseTo((1 + 0 + 3 + 2 + 2 + 2) / 6, 12);
    expect(summary.coverage).toBeCloseTo(2 / 6, 12);
    expect(summary.perKeyCoverage).toEqual({ overall: 1 / 3, culture: 1 / 3 });
    expect(summary.unparsed).toBe(2);
    expect(summary.formatCompliance).toBeCloseTo(1 / 3, 12);
    expect(summary.ratedCount).toBe(1);
    expect(summary.missingPredictions).toBe(1);
    expect(summary.perKeyRmse.overall).toBeCloseTo(Math.sqrt((1 + 9 + 4) / 3), 12);
    expect(summary.perKeyRmse.culture).toBeCloseTo(Math.sqrt((0 + 4 + 4) / 3), 12);
    expect(summary.rougeLsum).toBeCloseTo((1 + results[1]!.rougeLsum.fmeasure + 0) / 3, 12);
  });

  it('reports RMSE as n/a for a text-only format', () => {
    const plain = outputFormatSchema.parse({});
    const { summary } = scorePredictions([{ id: 'x', messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'the answer' }] }], [{ id: 'x', output: 'the answer' }], plain, { useStemmer: false });
    expect(summary).toMatchObject({ rougeLsum: 1, ratingsRmse: null, formatCompliance: 1 });
  });
});

describe('report', () => {
  const evals = [evaluation('gpt4o-mini', 'baseline', 0.87684, 0.59236), evaluation('gpt4o-mini-fewshot', 'baseline', 0.8499, 0.6797), evaluation('llama-3.1-8b-8K', 'fine-tuned', 0.7827, null)];
  it('renders exactly the table of issue 4', () => {
    expect(reportTable(evals)).toBe(
      ['| model | text ROUGE-Lsum | ratings RMSE |', '|---|---|---|', '| gpt4o-mini | 0.8768 | 0.5924 |', '| gpt4o-mini-fewshot | 0.8499 | 0.6797 |', '| llama-3.1-8b-8K | 0.7827 | n/a |'].join('\n'),
    );
  });
  it('draws an SVG bar chart with one bar per model and metric', () => {
    const svg = renderChart(evals.map((e) => ({ ...e, fineTuned: e.kind === 'fine-tuned' })), 'test & <chart>');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('test &amp; &lt;chart&gt;');
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(5); // 3 ROUGE bars + 2 RMSE bars (one n/a)
    expect(svg).toContain('>0.8768<');
  });
});

describe('baselines', () => {
  it('builds zero- and few-shot prompts with the format instructions, picking shots deterministically', () => {
    const train = Array.from({ length: 10 }, (_, i) => ex(`t${i}`, `Text ${i}.`, 3, 3));
    const shots = pickShots(train, 2, 42);
    expect(pickShots([...train].reverse(), 2, 42)).toEqual(shots);
    const zero = baselineMessages(tests[0]!, [], format);
    expect(zero.map((m) => m.role)).toEqual(['system', 'user']);
    expect(zero[0]!.content).toMatch(/^Review companies\.\n\n.*"Ratings:"/s);
    const few = baselineMessages(tests[0]!, shots, format);
    expect(few.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant', 'user']);
    expect(few[2]!.content).toBe(shots[0]!.messages[2]!.content);
    expect(few.at(-1)!.content).toBe('Review a');
  });
});

describe('publish gate', () => {
  const model = evaluation('mine', 'fine-tuned', 0.8, 0.5, 0.95);
  const base = evaluation('gpt4o-mini', 'baseline', 0.7, 0.6);
  it('passes thresholds and a beaten baseline, and explains every criterion', () => {
    const d = checkGate({ minRougeLsum: 0.75, maxRmse: 0.6, minFormatCompliance: 0.9, beatBaseline: 'gpt4o-mini' }, model, [base]);
    expect(d.passed).toBe(true);
    expect(d.reasons).toEqual([
      'pass: ROUGE-Lsum 0.8000 ≥ 0.75',
      'pass: ratings RMSE 0.5000 ≤ 0.6',
      'pass: format compliance 0.9500 ≥ 0.9',
      'pass: ROUGE-Lsum 0.8000 > gpt4o-mini 0.7000',
      'pass: ratings RMSE 0.5000 < gpt4o-mini 0.6000',
    ]);
  });
  it('fails a missed threshold, a lost comparison, an unknown baseline or no gate at all', () => {
    expect(checkGate({ minRougeLsum: 0.9 }, model, []).passed).toBe(false);
    expect(checkGate({ beatBaseline: 'gpt4o-mini' }, { ...model, ratingsRmse: 0.7 }, [base]).reasons).toContain('FAIL: ratings RMSE 0.7000 < gpt4o-mini 0.6000');
    expect(checkGate({ beatBaseline: 'nope' }, model, [base]).reasons[0]).toMatch(/FAIL: baseline "nope" was not evaluated/);
    expect(checkGate({}, model, []).passed).toBe(false);
  });
});

describe('model card', () => {
  it('has Hugging Face YAML metadata with the evaluation results and the lineage', () => {
    const card = modelCard({
      repo: 'acme/reviewer',
      baseModel: 'meta-llama/Llama-3.1-8B-Instruct',
      weights: 'adapter',
      license: 'llama3.1',
      datasets: ['acme/company-reviews'],
      dataset: { name: 'reviews', version: 'abc123', manifestUri: 's3://b/datasets/reviews/abc123/manifest.json', counts: { train: 40, validation: 5, test: 5 } },
      model: evaluation('reviewer', 'fine-tuned', 0.78271, 0.858),
      evaluations: [evaluation('gpt4o-mini', 'baseline', 0.8768, 0.5924), evaluation('reviewer', 'fine-tuned', 0.78271, 0.858)],
      training: trainingSchema.parse({ quantization: '4bit', maxSeqLength: 8192 }),
      lineage: { workflowId: 'wf-1', runId: 'run-1', adapterUri: 's3://b/runs/wf-1/run-1/model/adapter/' },
    });
    const [, yaml, body] = card.split(/^---$/m);
    const meta = parseYaml(yaml!) as Record<string, unknown>;
    expect(meta).toMatchObject({ base_model: 'meta-llama/Llama-3.1-8B-Instruct', library_name: 'peft', license: 'llama3.1', datasets: ['acme/company-reviews'] });
    expect(meta['model-index']).toEqual([
      {
        name: 'reviewer',
        results: [
          {
            task: { type: 'text-generation', name: 'Text Generation' },
            dataset: { name: 'reviews', type: 'acme/company-reviews', split: 'test', revision: 'abc123' },
            metrics: [
              { name: 'ROUGE-Lsum', type: 'rouge', value: 0.7827 },
              { name: 'Ratings RMSE', type: 'rmse', value: 0.858 },
              { name: 'Ratings MAE', type: 'mae', value: 0.858 },
              { name: 'Format compliance', type: 'accuracy', value: 1 },
            ],
          },
        ],
      },
    ]);
    expect(body).toContain('| reviewer | 0.7827 | 0.8580 |');
    expect(body).toContain('QLoRA (4-bit NF4)');
    expect(body).toContain('- workflow id: `wf-1`');
    expect(body).toContain('- run id: `run-1`');
    expect(body).toContain('version `abc123`');
  });
});

describe('train input validation', () => {
  const valid = {
    name: 'reviewer',
    dataset: { name: 'reviews', source: { kind: 'records', uri: 'examples/reviews/companies.jsonl', template: { user: '{{name}}', response: '{{review}}' } } },
    model: { baseModel: 'meta-llama/Llama-3.1-8B-Instruct', name: 'llama-3.1-8b-8K' },
  };
  it('fills defaults', () => {
    const c = trainInputSchema.parse(valid);
    expect(c.training).toMatchObject({ maxSeqLength: 4096, lora: { r: 16, alpha: 32 }, assistantOnlyLoss: true });
    expect(c.gpu).toMatchObject({ heartbeatTimeout: '5 minutes', maximumAttempts: 3 });
    expect(c.evaluation).toEqual({ useStemmer: true, baselines: [], floors: ['train-mean', 'nearest-train'] });
  });
  it('names the bad field', () => {
    const bad = (patch: object) => () => parseInput(trainInputSchema, { ...valid, ...patch }, 'train');
    expect(bad({ training: { lora: { r: 0 } } })).toThrow(/invalid train input: training\.lora\.r: /);
    expect(bad({ training: { maxSteps: 0 } })).toThrow(/training\.maxSteps: must be -1 or a positive number of steps/);
    expect(bad({ publish: { repo: 'no-namespace' } })).toThrow(/publish\.repo: expected "namespace\/name"/);
    expect(bad({ publish: { repo: 'a/b' } })).toThrow(/publish\.gate: set at least one of/);
    expect(bad({ gpu: { heartbeatTimeout: 'soon' } })).toThrow(/gpu\.heartbeatTimeout/);
    expect(bad({ hfToken: 'hf_x' })).toThrow(/Unrecognized key: "hfToken"/);
    expect(bad({ dataset: { ...valid.dataset, source: { kind: 'web' } } })).toThrow(/dataset/);
  });
  it('maps training settings to the trainer config keys', () => {
    const t = trainingSchema.parse({ maxSteps: 5, lora: { targetModules: ['q_proj'] }, chatTemplate: '{{x}}' });
    const c = trainerConfig(t, { baseModel: 'm', outputDir: '/o', trainFile: '/t.jsonl', resumeFrom: '/ck' });
    expect(c).toMatchObject({ base_model: 'm', output_dir: '/o', train_file: '/t.jsonl', max_steps: 5, lora: { target_modules: ['q_proj'] }, resume_from_checkpoint: '/ck', chat_template: '{{x}}', per_device_batch_size: 1 });
    expect(c).not.toHaveProperty('eval_file');
  });
});

describe('publishModel with a failing gate', () => {
  let hub: HfHubServer;
  beforeAll(async () => {
    hub = await startHfHubServer({ token: 'hf_test' });
  });
  afterAll(() => hub.close());

  it('publishes nothing: the Hub receives no request', async () => {
    const config = loadConfig({ HF_TOKEN: 'hf_test', HF_HUB_URL: hub.url, S3_ENDPOINT: 'http://127.0.0.1:9' });
    const { publishModel } = createPublishActivities(createDeps(config));
    const result = await new MockActivityEnvironment().run(publishModel, {
      publish: publishSchema.parse({ repo: 'acme/reviewer', gate: { minRougeLsum: 0.99 } }),
      baseModel: 'base',
      adapterUri: 's3://b/adapter/',
      dataset: { name: 'd', version: 'v', manifestUri: 's3://b/m.json', counts: { train: 1, validation: 0, test: 1 } },
      model: evaluation('mine', 'fine-tuned', 0.5, null),
      evaluations: [evaluation('mine', 'fine-tuned', 0.5, null)],
      training: trainingSchema.parse({}),
    });
    expect(result).toEqual({ published: false, dryRun: false, gatePassed: false, reasons: ['FAIL: ROUGE-Lsum 0.5000 ≥ 0.99'], files: [] });
    expect(hub.requests).toHaveLength(0);
  });
});
