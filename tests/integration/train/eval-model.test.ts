/**
 * `evaluateModel` on the real stack: the tiny model's base weights (GPU queue, real trainer process on CPU) and an
 * OpenAI-compatible endpoint (the wire-format fake) on one dataset version, without training; one report with the
 * review page. A second comparison on the same dataset answers the endpoint from the S3 cache: zero requests.
 */
import { describe, expect, it } from 'vitest';
import { createDeps } from '../../../activities/deps';
import { modelEvalInput } from '../../../cli/commands/eval';
import { TwinflowClient } from '../../../client';
import type { EvaluateModelInput, EvaluateModelResult } from '../../../lib/schemas/model-eval';
import { withTrainWorkers } from '../../harness/train-workers';
import { baselineFixture, recordReplayHistory, writeSmallDataset } from './review-fixtures';

const fx = baselineFixture('sk-eval');

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

      // Both rows, on the same 3 test examples; the endpoint answered each once.
      const rows = Object.fromEntries(first.evaluations.map((e) => [e.model, e]));
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
