/**
 * `evaluateModel` on the real stack: the tiny model's base weights (GPU queue, real trainer process on CPU) and an
 * OpenAI-compatible endpoint (the wire-format fake) on one dataset version, without training; one report with the
 * review page, whose table starts with the no-LLM floors. A second comparison on the same dataset answers the
 * endpoint from the S3 cache: zero requests. A LoRA adapter in a folder on the GPU worker is evaluated in place.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { createDeps } from '../../../activities/deps';
import { modelEvalInput } from '../../../cli/commands/eval';
import { TwinflowClient } from '../../../client';
import { PROJECT_ROOT } from '../../../lib/config';
import { rougeLsum } from '../../../lib/metrics/rouge';
import type { EvaluateModelInput, EvaluateModelResult } from '../../../lib/schemas/model-eval';
import { tokenize } from '../../../lib/vectorstore/bm25';
import { type Company, companies, ratingsOf } from '../../helpers/company-reviews';
import { withTrainWorkers } from '../../harness/train-workers';
import { baselineFixture, recordReplayHistory, writeSmallDataset } from './review-fixtures';
import { TRAINER_PYTHON } from './tiny-model';

const fx = baselineFixture('sk-eval');

// Temp folders under os.tmpdir(), which the test workers' TWINFLOW_ALLOW_PATHS allows (tests/harness/resources.ts).
const tempDirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

const rmse = (errors: number[]) => Math.sqrt(errors.reduce((a, e) => a + e * e, 0) / errors.length);
const ratingErrors = (predicted: Record<string, number>, test: readonly Company[]) => test.flatMap((t) => Object.entries(ratingsOf(t)).map(([k, v]) => predicted[k]! - v));

/**
 * The floors' expected rows, from the companies themselves rather than the activity's code: the train mean of each
 * rating, and for each test prompt the train company a plain Okapi BM25 (k1 1.2, b 0.75, idf ln(1 + (N − df + .5) /
 * (df + .5)), docs/training.md) ranks first, scored with the ROUGE implementation checked against Google's package.
 */
function expectedFloors(train: readonly Company[], test: readonly Company[]) {
  const prompt = (c: Company) => `Review ${c.name}: ${c.description}`;
  const docs = train.map((c) => tokenize(prompt(c)));
  const avg = docs.reduce((a, d) => a + d.length, 0) / docs.length;
  const df = (term: string) => docs.filter((d) => d.includes(term)).length;
  const score = (query: string[], d: string[]) =>
    [...new Set(query)].reduce((sum, term) => {
      const f = d.filter((x) => x === term).length;
      const idf = Math.log(1 + (docs.length - df(term) + 0.5) / (df(term) + 0.5));
      return sum + (f ? (idf * f * 2.2) / (f + 1.2 * (0.25 + (0.75 * d.length) / avg)) : 0);
    }, 0);
  const nearest = test.map((t) => {
    const scores = docs.map((d) => score(tokenize(prompt(t)), d));
    return train[scores.indexOf(Math.max(...scores))]!;
  });
  const keys = Object.keys(ratingsOf(train[0]!));
  const means = Object.fromEntries(keys.map((k) => [k, train.reduce((a, c) => a + ratingsOf(c)[k as keyof ReturnType<typeof ratingsOf>], 0) / train.length]));
  return {
    nearest: nearest.map((c) => String(c.id)),
    trainMeanRmse: rmse(ratingErrors(means, test)),
    nearestRmse: rmse(test.flatMap((t, i) => ratingErrors(ratingsOf(nearest[i]!), [t]))),
    nearestRouge: test.reduce((a, t, i) => a + rougeLsum(String(t.review).trim(), String(nearest[i]!.review).trim(), { useStemmer: true }).fmeasure, 0) / test.length,
  };
}

/** The messages of a failed workflow's error and its causes (the activity's failure is the cause's cause). */
async function failureOf(result: Promise<unknown>): Promise<string> {
  const err = await result.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const messages: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = e.cause) messages.push(e.message);
  return messages.join(' | ');
}

/** A LoRA adapter on the tiny model, saved by PEFT in the trainer's venv; random (not zero) B so it changes outputs. */
function tinyAdapterDir(tiny: string): string {
  const dir = tempDir('twinflow-adapter-');
  const script = [
    'import sys, torch',
    'from transformers import AutoModelForCausalLM',
    'from peft import LoraConfig, get_peft_model',
    'torch.manual_seed(7)',
    'model = AutoModelForCausalLM.from_pretrained(sys.argv[1])',
    'cfg = LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False, task_type="CAUSAL_LM")',
    'get_peft_model(model, cfg).save_pretrained(sys.argv[2])',
  ].join('\n');
  execFileSync(TRAINER_PYTHON, ['-c', script, tiny, dir], { env: { ...process.env, PYTHONPATH: path.join(PROJECT_ROOT, 'trainer', 'src') }, stdio: ['ignore', 'ignore', 'pipe'] });
  return dir;
}

describe('twinflow eval model: existing models on a dataset version, without training', () => {
  it('evaluates the base model (GPU queue) and an endpoint side by side; the second comparison pays nothing', async () => {
    const config = fx.config();
    const deps = createDeps(config);
    await deps.artifacts.ensureBucket();
    const dataset = await writeSmallDataset(deps.artifacts, 'eval-model-it', { train: 6, test: 3 });

    await withTrainWorkers(config, async ({ client, taskQueue, gpuTaskQueue }) => {
      const twinflow = new TwinflowClient(client, config);
      const input: EvaluateModelInput = {
        name: 'compare',
        dataset: { manifestUri: dataset.manifestUri },
        models: [{ name: 'tiny-base', baseModel: fx.tiny }],
        endpoints: [{ model: 'gpt-4o-mini', name: 'gpt4o-mini' }],
        generation: { maxNewTokens: 8, device: 'cpu' },
        gpu: { taskQueue: gpuTaskQueue },
      };
      const handle = await twinflow.startModelEval(input, { taskQueue, workflowId: `eval-model-${taskQueue}` });
      const first = (await handle.result()) as EvaluateModelResult;
      await recordReplayHistory(handle, 'evaluateModel--base-and-endpoint.json');

      // The no-LLM floors come first in the table, with the values the companies give (6 train, 3 test).
      expect(first.evaluations.map((e) => e.model)).toEqual(['train-mean', 'nearest-train', 'gpt4o-mini', 'tiny-base']);
      const want = expectedFloors(companies.slice(0, 6), companies.slice(6, 9));
      const lines = first.report.markdown.split('\n').filter((l) => /^\| [^-|]/.test(l));
      expect(lines.slice(1, 3)).toEqual([`| train-mean | n/a | ${want.trainMeanRmse.toFixed(4)} |`, `| nearest-train | ${want.nearestRouge.toFixed(4)} | ${want.nearestRmse.toFixed(4)} |`]);
      const rows = Object.fromEntries(first.evaluations.map((e) => [e.model, e]));
      expect(rows['train-mean']).toMatchObject({ kind: 'baseline', count: 3, rougeLsum: null, coverage: 1 });
      expect(rows['train-mean']!.ratingsRmse).toBeCloseTo(want.trainMeanRmse, 12);
      expect(rows['nearest-train']).toMatchObject({ kind: 'baseline', count: 3, coverage: 1 });
      expect(rows['nearest-train']!.ratingsRmse).toBeCloseTo(want.nearestRmse, 12);
      expect(rows['nearest-train']!.rougeLsum).toBeCloseTo(want.nearestRouge, 12);
      const nearestOut = await deps.artifacts.readAllJsonl<{ id: string; output: string }>(rows['nearest-train']!.predictionsUri);
      const trainAnswer = (id: string) => String(companies.find((c) => String(c.id) === id)!.review).trim();
      expect(nearestOut.map((p) => p.output.split('\n\n')[0])).toEqual(want.nearest.map(trainAnswer));
      expect(fx.chat.requests).toHaveLength(3); // the floors asked nothing

      // Both model rows, on the same 3 test examples; the endpoint answered each once.
      expect(rows['tiny-base']).toMatchObject({ kind: 'baseline', count: 3 });
      expect(rows['gpt4o-mini']).toMatchObject({ kind: 'baseline', count: 3, rougeLsum: 1, ratingsRmse: 0 });
      expect(rows['gpt4o-mini']!.usage).toMatchObject({ requests: 3, cachedResponses: 0 });
      expect(fx.chat.requests).toHaveLength(3);
      expect(first.report.markdown).toMatch(/\| gpt4o-mini \| 1\.0000 \| 0\.0000 \|/);
      expect(first.report.markdown).toMatch(/\| tiny-base \| \d\.\d{4} \|/);
      const predictions = await deps.artifacts.readAllJsonl<{ id: string; output: string }>(rows['tiny-base']!.predictionsUri);
      expect(predictions.map((p) => p.id).sort()).toEqual(['c007', 'c008', 'c009']);

      // The review page: self-contained, every test input and reference, both models' outputs.
      const html = await deps.artifacts.getText(first.report.reviewUri!);
      expect(html).toMatch(/^<!doctype html>/);
      expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
      for (const p of predictions) expect(html).toContain(`data-id="${p.id}"`);
      expect(html).toContain('Review Quiet Labs 7');
      expect(await deps.artifacts.getText(first.report.chartUri)).toMatch(/^<svg /);

      // The second comparison (another name, endpoints only) is answered from the cache: the fake sees nothing new.
      const again = (await (await twinflow.startModelEval({ ...input, name: 'compare-again', models: [] }, { taskQueue })).result()) as EvaluateModelResult;
      expect(fx.chat.requests).toHaveLength(3);
      const cached = again.evaluations.find((e) => e.model === 'gpt4o-mini')!;
      expect(cached.usage).toMatchObject({ requests: 0, costUsd: 0, cachedResponses: 3 });
      expect(cached.rougeLsum).toBe(rows['gpt4o-mini']!.rougeLsum);
    });
  });

  it('evaluates a LoRA adapter from a folder on the GPU worker; refuses a folder without adapter_config.json and a row named like a floor', async () => {
    const config = fx.config();
    const deps = createDeps(config);
    const dataset = await writeSmallDataset(deps.artifacts, 'eval-model-adapter-it', { train: 6, test: 3 });
    const adapter = tinyAdapterDir(fx.tiny);
    expect(fs.existsSync(path.join(adapter, 'adapter_config.json'))).toBe(true);

    await withTrainWorkers(config, async ({ client, taskQueue, gpuTaskQueue }) => {
      const twinflow = new TwinflowClient(client, config);
      const input: EvaluateModelInput = {
        name: 'adapter-folder',
        dataset: { manifestUri: dataset.manifestUri },
        models: [
          { name: 'tiny-base', baseModel: fx.tiny },
          { name: 'tiny-adapter', baseModel: fx.tiny, adapter },
        ],
        evaluation: { floors: [] },
        generation: { maxNewTokens: 8, device: 'cpu' },
        gpu: { taskQueue: gpuTaskQueue },
      };
      const result = (await (await twinflow.startModelEval(input, { taskQueue })).result()) as EvaluateModelResult;
      expect(result.evaluations.map((e) => e.model)).toEqual(['tiny-base', 'tiny-adapter']);
      const [base, tuned] = result.evaluations;
      expect(tuned).toMatchObject({ kind: 'fine-tuned', count: 3 });
      expect(result.report.markdown).toMatch(/\| tiny-adapter \| \d\.\d{4} \|/);
      // The adapter was applied: greedy decoding of the same prompts with the same base gives other outputs.
      const outputs = async (uri: string) => (await deps.artifacts.readAllJsonl<{ id: string; output: string }>(uri)).sort((a, b) => a.id.localeCompare(b.id));
      const [baseOut, tunedOut] = [await outputs(base!.predictionsUri), await outputs(tuned!.predictionsUri)];
      expect(tunedOut.map((p) => p.id)).toEqual(['c007', 'c008', 'c009']);
      expect(tunedOut.map((p) => p.output)).not.toEqual(baseOut.map((p) => p.output));

      // A folder that is not a PEFT adapter fails the run at once, naming the folder.
      const empty = tempDir('twinflow-not-adapter-');
      const bad = await twinflow.startModelEval({ ...input, name: 'adapter-missing', models: [{ name: 'nothing', baseModel: fx.tiny, adapter: empty }] }, { taskQueue });
      expect(await failureOf(bad.result())).toContain(`no adapter_config.json in ${empty}`);

      // A model row may not take a floor's name: the table would have two "train-mean" rows.
      const clash = await twinflow.startModelEval({ ...input, name: 'floor-clash', models: [{ name: 'train-mean', baseModel: fx.tiny }], evaluation: {} }, { taskQueue });
      expect(await failureOf(clash.result())).toContain('invalid evaluateModel input: two report rows are named "train-mean"');
    });
  });

  it('builds the input from the flags and refuses an adapter without its base model', () => {
    const input = modelEvalInput({
      dataset: 's3://b/datasets/x/1/manifest.json',
      name: 'cli',
      baseModel: 'meta-llama/Llama-3.1-8B',
      adapter: 's3://b/runs/w/r/model/adapter/',
      merged: false,
      endpoint: ['gpt-4o-mini'],
      shots: '2',
      wait: true,
      withWorkers: false,
    });
    expect(input).toEqual({
      name: 'cli',
      dataset: { manifestUri: 's3://b/datasets/x/1/manifest.json' },
      models: [{ name: 'adapter', baseModel: 'meta-llama/Llama-3.1-8B', adapter: 's3://b/runs/w/r/model/adapter/' }],
      endpoints: [{ model: 'gpt-4o-mini', shots: 2 }],
    });
    expect(() => modelEvalInput({ dataset: 's3://b/m.json', name: 'x', adapter: './a', merged: false, endpoint: [], shots: '0', wait: true, withWorkers: false })).toThrow(/--adapter: also give --base-model/);
  });
});
