/**
 * The model card as the Hub reads it: base_model only when it is a Hub id (a local base is named in the text
 * instead), and the whole card validated by huggingface_hub itself (`twinflow_trainer validate-card`, the check the
 * publish step runs), for a Hub base and for a local one.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { hubModelId, modelCard, type ModelCardInput } from '../../../activities/publish/model-card';
import { PROJECT_ROOT } from '../../../lib/config';
import { dpoSchema } from '../../../lib/schemas/dpo';
import { type ModelEvaluation, trainingSchema } from '../../../lib/schemas/train';

const run = promisify(execFile);
const PYTHON = path.join(PROJECT_ROOT, '.twinflow', 'venv', 'bin', 'python');

const evaluation: ModelEvaluation = {
  model: 'twin',
  kind: 'fine-tuned',
  count: 5,
  rougeLsum: 0.41234,
  ratingsRmse: 0.9,
  ratingsMae: 0.7,
  formatCompliance: 0.8,
  ratedCount: 4,
  perKeyRmse: {},
  predictionsUri: 's3://b/p.jsonl',
  resultsUri: 's3://b/r.jsonl',
} as ModelEvaluation;

function card(baseModel: string, extra: Partial<ModelCardInput> = {}): string {
  const input: ModelCardInput = {
    repo: 'acme/twin',
    baseModel,
    weights: 'adapter',
    license: 'apache-2.0',
    datasets: ['acme/reviews'],
    dataset: { name: 'reviews', version: 'v1', manifestUri: 's3://b/m.json', counts: { train: 40, validation: 5, test: 5 } },
    model: evaluation,
    evaluations: [evaluation],
    training: trainingSchema.parse({}),
    lineage: { workflowId: 'wf', runId: 'run', adapterUri: 's3://b/runs/wf/run/model/adapter/' },
    ...extra,
  };
  return modelCard(input);
}

async function validate(text: string): Promise<{ code: number; events: Array<Record<string, unknown>> }> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-card-')), 'README.md');
  fs.writeFileSync(file, text);
  const res = await run(PYTHON, ['-m', 'twinflow_trainer', 'validate-card', '--card', file], { env: { ...process.env, PYTHONPATH: path.join(PROJECT_ROOT, 'trainer', 'src') } }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (err: { code: number; stdout: string }) => ({ code: err.code, stdout: err.stdout }),
  );
  return { code: res.code, events: res.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('model card base_model', () => {
  it('keeps Hub ids and refuses local folders and object-store prefixes', () => {
    expect(hubModelId('meta-llama/Llama-3.1-8B-Instruct')).toBe('meta-llama/Llama-3.1-8B-Instruct');
    expect(hubModelId('gpt2')).toBe('gpt2');
    for (const local of ['/work/models/tiny-llama', './tiny', '~/m', 's3://bucket/models/llama/', 'a/b/c', 'org/na--me']) expect(hubModelId(local)).toBeUndefined();
  });

  it('a local base: no base_model in the metadata, a note in the text; huggingface_hub accepts the card', async () => {
    const text = card('/work/models/tiny-llama');
    const meta = parseYaml(text.split(/^---$/m)[1]!) as Record<string, unknown>;
    expect(meta.base_model).toBeUndefined();
    expect(meta.tags).not.toContainEqual(expect.stringMatching(/^base_model:/));
    expect(text).toContain('The base model is not on the Hub (`/work/models/tiny-llama`');
    const res = await validate(text);
    expect(res.code).toBe(0);
    expect(res.events[0]).toMatchObject({ event: 'card', valid: true, base_model: null });
  });

  it('a Hub base: base_model set, and the model-index read back as the Hub shows it', async () => {
    const res = await validate(card('meta-llama/Llama-3.1-8B-Instruct'));
    expect(res.code).toBe(0);
    const ev = res.events[0] as { base_model: string; results: Array<{ metric: string; value: number; split: string }> };
    expect(ev.base_model).toBe('meta-llama/Llama-3.1-8B-Instruct');
    expect(ev.results.map((r) => [r.metric, r.value, r.split])).toEqual(expect.arrayContaining([['rouge', 0.4123, 'test'], ['rmse', 0.9, 'test']]));
  });

  it('the card of the old writer (a local path as base_model) is what huggingface_hub refuses', async () => {
    const bad = card('meta-llama/Llama-3.1-8B-Instruct').replace('base_model: meta-llama/Llama-3.1-8B-Instruct', 'base_model: /work/models/tiny-llama');
    const res = await validate(bad);
    expect(res.code).toBe(2);
    expect(String(res.events[0]!.message)).toMatch(/base_model: '\/work\/models\/tiny-llama' is not a Hub model id/);
  });
});

describe('model card of a DPO model', () => {
  it('says the weights came out of SFT then DPO: tag, text, settings, pairs and the SFT adapter in the lineage', async () => {
    const dpo = {
      settings: dpoSchema.parse({ beta: 0.2, maxSteps: 4 }),
      sftAdapterUri: 's3://b/runs/wf/run/model/adapter/',
      pairsUri: 's3://b/runs/wf/run/dpo/pairs.jsonl',
      metrics: { pairs: 38, pairsDropped: 2, rewardAccuracy: 0.75, rewardMargin: 0.0123 },
    };
    const text = card('meta-llama/Llama-3.1-8B-Instruct', { dpo, lineage: { workflowId: 'wf', runId: 'run', adapterUri: 's3://b/runs/wf/run/model/dpo-adapter/' } });
    const meta = parseYaml(text.split(/^---$/m)[1]!) as { tags: string[] };
    expect(meta.tags).toEqual(expect.arrayContaining(['sft', 'dpo']));
    expect(text).toContain('trained with twinflow (TRL SFT then DPO + PEFT)');
    expect(text).toContain('| preference tuning | DPO (sigmoid), beta=0.2, learning rate 0.000005 (cosine), epochs / max steps 1 / 4, batch 1 × 8 |');
    expect(text).toContain("| DPO pairs | generated (reference answer chosen, the SFT model's own answer rejected): 38 used, 2 dropped |");
    expect(text).toContain('| DPO reward accuracy / margin | 0.7500 / 0.0123 |');
    expect(text).toContain('- SFT adapter DPO started from: s3://b/runs/wf/run/model/adapter/');
    expect(text).toContain('- DPO pairs: s3://b/runs/wf/run/dpo/pairs.jsonl');
    expect((await validate(text)).code).toBe(0);
    // Without a DPO stage none of it appears.
    const sft = card('meta-llama/Llama-3.1-8B-Instruct');
    expect(sft).toContain('(TRL SFT + PEFT)');
    expect(sft).not.toMatch(/DPO|dpo/);
  });
});
