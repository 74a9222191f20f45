/**
 * The tiny example's publish gate (examples/reviews/train-tiny-cpu.json) on the real stack: the example's own config,
 * read as `twinflow train --config` reads it, run through the train workflow with its tiny Llama on CPU. Both sides
 * of a gate that means something: an untrained model (one optimiser step) fails it, naming each criterion it missed,
 * and publishes nothing; the example's own run (its 1,500 LoRA steps, unchanged) beats both no-LLM floors and is
 * published (dry run). The example's records carry the ratings in their prompt (examples/reviews/make_from_notes.py),
 * so the floors are real opponents: nearest-train answers with the most similar training example's review.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTrainConfig } from '../../../cli/commands/train';
import { PROJECT_ROOT } from '../../../lib/config';
import type { TrainInput, TrainResult } from '../../../lib/schemas/train';
import { testConfig } from '../../harness/stack';
import { withTrainWorkers } from '../../harness/train-workers';
import { reviewsTinyModelDir } from './tiny-model';

const EXAMPLE = path.join(PROJECT_ROOT, 'examples', 'reviews', 'train-tiny-cpu.json');

/** The example's input with only the test's GPU queue set (and `training` patched where a test says so). */
function exampleInput(gpuTaskQueue: string, training: Partial<NonNullable<TrainInput['training']>> = {}): TrainInput {
  const input = readTrainConfig(EXAMPLE);
  return { ...input, training: { ...input.training, ...training }, gpu: { ...input.gpu, taskQueue: gpuTaskQueue } };
}

async function runExample(name: string, training: Partial<NonNullable<TrainInput['training']>> = {}): Promise<TrainResult> {
  // The example names this folder (../../.twinflow/test-models/tiny-llama-reviews): build it if this machine has none.
  expect(readTrainConfig(EXAMPLE).model.baseModel).toBe(reviewsTinyModelDir());
  const started = Date.now();
  const r = await withTrainWorkers(testConfig(), async ({ client, taskQueue, gpuTaskQueue }) => {
    const handle = await client.workflow.start('train', { taskQueue, workflowId: `example-gate-${name}-${taskQueue}`, args: [exampleInput(gpuTaskQueue, training)] });
    return (await handle.result()) as TrainResult;
  });
  const rows = r.evaluations.map((e) => `${e.model}: ROUGE-Lsum ${e.rougeLsum?.toFixed(4) ?? 'n/a'}, RMSE ${e.ratingsRmse?.toFixed(4)}, coverage ${e.coverage?.toFixed(2)}`);
  console.log(`${name} example run: ${((Date.now() - started) / 1000).toFixed(1)} s, ${r.fineTune.metrics.globalStep} steps\n  ${rows.join('\n  ')}`);
  return r;
}

const f4 = (v: number | null | undefined) => v!.toFixed(4);

describe('the tiny example gate on the real stack', () => {
  it('fails an untrained model (one step) naming every missed criterion, and publishes nothing', async () => {
    const r = await runExample('untrained', { maxSteps: 1 });
    const rows = Object.fromEntries(r.evaluations.map((e) => [e.model, e]));
    const model = rows['tiny-llama-lora']!;
    expect(r.fineTune.metrics.globalStep).toBe(1);
    expect(Object.keys(rows)).toEqual(['train-mean', 'nearest-train', 'tiny-llama-lora']);
    // The floors the gate names were evaluated on the same test split, all their ratings read.
    expect(rows['train-mean']).toMatchObject({ kind: 'baseline', rougeLsum: null, coverage: 1 });
    expect(rows['nearest-train']).toMatchObject({ kind: 'baseline', coverage: 1 });
    expect(rows['nearest-train']!.rougeLsum!).toBeGreaterThan(0.1);
    // The untrained model writes no ratings line: every rating counts as the worst error, and each criterion fails.
    expect(model.coverage).toBe(0);
    expect(r.publish).toMatchObject({ published: false, gatePassed: false, dryRun: true, files: [] });
    expect(r.publish!.reasons).toEqual([
      'FAIL: ratings coverage 0.0000 ≥ 0.5',
      `FAIL: ratings RMSE ${f4(model.ratingsRmse)} < train-mean ${f4(rows['train-mean']!.ratingsRmse)}`,
      `FAIL: ROUGE-Lsum ${f4(model.rougeLsum)} > nearest-train ${f4(rows['nearest-train']!.rougeLsum)}`,
      `FAIL: ratings RMSE ${f4(model.ratingsRmse)} < nearest-train ${f4(rows['nearest-train']!.ratingsRmse)}`,
    ]);
  });

  it("passes the example's own trained run (its config unchanged): both floors beaten, published as a dry run", async () => {
    const example = readTrainConfig(EXAMPLE);
    const r = await runExample('trained');
    const rows = Object.fromEntries(r.evaluations.map((e) => [e.model, e]));
    const model = rows['tiny-llama-lora']!;
    expect(r.fineTune.metrics.globalStep).toBe(example.training!.maxSteps);
    expect(Object.keys(rows)).toEqual(['train-mean', 'nearest-train', 'tiny-llama-lora']);
    // Every test example scored, the model's ratings read for (nearly) all of them.
    expect(model.count).toBe(r.dataset.counts.test);
    expect(model.coverage!).toBeGreaterThanOrEqual(0.9);
    expect(model.ratingsRmse!).toBeLessThan(rows['train-mean']!.ratingsRmse!);
    expect(model.ratingsRmse!).toBeLessThan(rows['nearest-train']!.ratingsRmse!);
    expect(model.rougeLsum!).toBeGreaterThan(rows['nearest-train']!.rougeLsum!);
    expect(r.publish).toMatchObject({ published: false, gatePassed: true, dryRun: true, repo: 'local/tiny-reviewer' });
    expect(r.publish!.files.length).toBeGreaterThan(0);
    expect(r.publish!.reasons).toEqual([
      `pass: ratings coverage ${f4(model.coverage)} ≥ 0.5`,
      `pass: ratings RMSE ${f4(model.ratingsRmse)} < train-mean ${f4(rows['train-mean']!.ratingsRmse)}`,
      `pass: ROUGE-Lsum ${f4(model.rougeLsum)} > nearest-train ${f4(rows['nearest-train']!.rougeLsum)}`,
      `pass: ratings RMSE ${f4(model.ratingsRmse)} < nearest-train ${f4(rows['nearest-train']!.ratingsRmse)}`,
    ]);
  });
});
