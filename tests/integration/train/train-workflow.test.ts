/**
 * The `train` workflow end to end on the real stack (Temporal + MinIO) with the tiny Llama model on CPU: a CPU worker
 * and a GPU-queue worker in this process, the real Python trainer as a subprocess, baselines served by an
 * OpenAI-compatible HTTP server, publishing to a Hub-compatible HTTP server.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeps } from '../../../activities/deps';
import type { GpuHooks } from '../../../activities/gpu';
import type { Config } from '../../../lib/config';
import { formatOutput } from '../../../lib/metrics/output-format';
import { type TrainInput, type TrainProgress, type TrainResult, TRAIN_PROGRESS_QUERY } from '../../../lib/schemas/train';
import { testConfig } from '../../harness/stack';
import { type TrainWorkers, withTrainWorkers } from '../../harness/train-workers';
import { companies, ratingsOf, reviewFormat, tinyCompanyTrainInput } from '../../helpers/company-reviews';
import { type HfHubServer, startHfHubServer } from '../../helpers/hf-hub-server';
import { type OpenAIChatServer, startOpenAIChatServer } from '../../helpers/openai-chat-server';
import { tinyModelDir } from './tiny-model';
import { alive } from '../../helpers/process';

const HF_TOKEN = 'hf_integration_token';
let tiny: string;
let chat: OpenAIChatServer;
let hub: HfHubServer;

beforeAll(async () => {
  tiny = tinyModelDir();
  hub = await startHfHubServer({ token: HF_TOKEN });
  // A "strong" baseline that knows every company: zero-shot answers the exact review with culture off by one;
  // few-shot (recognised by its worked examples) answers only the first sentence with exact ratings.
  chat = await startOpenAIChatServer({
    apiKey: 'sk-baseline',
    respond: (req) => {
      const messages = req.body.messages ?? [];
      const last = messages.at(-1)!.content;
      const c = companies.find((x) => last.startsWith(`Review ${x.name}:`));
      if (!c) return { content: 'I do not know this company.' };
      const ratings = ratingsOf(c);
      const fewShot = messages.filter((m) => m.role === 'assistant').length > 0;
      if (fewShot) return { content: formatOutput(String(c.review).split('\n')[0]!, ratings, reviewFormat) };
      return { content: formatOutput(String(c.review), { ...ratings, culture: ratings.culture === 5 ? 4 : ratings.culture + 1 }, reviewFormat) };
    },
  });
}, 120_000);

afterAll(async () => {
  await chat?.close();
  await hub?.close();
});

function trainInput(name: string, gpuTaskQueue: string, patch: Partial<TrainInput> = {}): TrainInput {
  return tinyCompanyTrainInput(
    {
      name,
      tiny,
      model: 'tiny-llama-lora',
      training: { maxSteps: 8, saveSteps: 2, saveTotalLimit: 2 },
      generation: { maxNewTokens: 16 },
      gpu: { taskQueue: gpuTaskQueue, heartbeatTimeout: '5 seconds', progressIntervalSeconds: 0.2, retryInitialInterval: '1 second', maximumAttempts: 3 },
    },
    patch,
  );
}

/** The CPU and GPU-queue workers (tests/harness/train-workers.ts), the trainer observed through `hooks`. */
const withWorkers = <T>(config: Config, hooks: GpuHooks, fn: (ctx: TrainWorkers) => Promise<T>): Promise<T> => withTrainWorkers(config, fn, { hooks });

describe('train workflow on the real stack with the tiny model', () => {
  const config = testConfig({ HF_TOKEN, HF_HUB_URL: 'http://placeholder', LLM_API_KEY: 'sk-baseline' });

  it('builds the dataset, survives a trainer crash by resuming from its checkpoint, evaluates against baselines, reports and publishes', async () => {
    const cfg = testConfig({ HF_TOKEN, HF_HUB_URL: hub.url, LLM_BASE_URL: chat.baseUrl, LLM_API_KEY: 'sk-baseline' });
    const pids: Array<{ pid: number; attempt: number; command: string }> = [];
    const uploaded: Array<{ step: number; attempt: number }> = [];
    const hooks: GpuHooks = {
      onTrainerSpawn: (e) => pids.push(e),
      onTrainerEvent: ({ event, attempt, command }) => {
        // Freeze the first attempt's trainer at its first checkpoint, so the crash below lands right after it.
        if (command === 'train' && attempt === 1 && event.event === 'checkpoint' && uploaded.length === 0) {
          process.kill(pids.find((p) => p.attempt === 1)!.pid, 'SIGSTOP');
        }
      },
      onCheckpointUploaded: ({ step, attempt }) => {
        uploaded.push({ step, attempt });
        if (attempt === 1 && uploaded.length === 1) process.kill(pids.find((p) => p.attempt === 1)!.pid, 'SIGKILL'); // the crash
      },
    };
    const progressSeen: TrainProgress[] = [];
    const result = await withWorkers(cfg, hooks, async ({ client, taskQueue, gpuTaskQueue }) => {
      const input = trainInput('it-reviewer', gpuTaskQueue, {
        evaluation: {
          baselines: [
            { model: 'gpt-4o-mini', name: 'gpt4o-mini' },
            { model: 'gpt-4o-mini', name: 'gpt4o-mini-fewshot', shots: 2 },
          ],
        },
        publish: { repo: 'acme/tiny-reviewer', gate: { minRougeLsum: 0 }, license: 'apache-2.0' },
      });
      const handle = await client.workflow.start('train', { taskQueue, workflowId: `train-${taskQueue}`, args: [input] });
      const poll = setInterval(() => {
        handle
          .query<TrainProgress>(TRAIN_PROGRESS_QUERY)
          .then((p) => progressSeen.push(p))
          .catch(() => undefined);
      }, 300);
      try {
        const r = (await handle.result()) as TrainResult;
        progressSeen.push(await handle.query<TrainProgress>(TRAIN_PROGRESS_QUERY));
        return r;
      } finally {
        clearInterval(poll);
      }
    });

    // Dataset: 60 records, 2 exact + 2 near duplicates removed, split 80/10/10, versioned in S3 with a card.
    const deps = createDeps(cfg);
    expect(result.dataset.counts).toEqual({ train: 50, validation: 0, test: 6 });
    const manifest = await deps.artifacts.getJson<{ stats: { exactDuplicates: number; nearDuplicates: number; tokens: { p50: number } } }>(result.dataset.manifestUri);
    expect(manifest.stats).toMatchObject({ exactDuplicates: 2, nearDuplicates: 2, groups: 56, decontamination: { n: 13, action: 'drop', contaminated: 0, dropped: 0 } });
    expect(manifest.stats.tokens.p50).toBeGreaterThan(30);
    expect(await deps.artifacts.getText(result.dataset.cardUri)).toContain(`# company-reviews (version ${result.dataset.version})`);
    const testIds = (await deps.artifacts.readAllJsonl<{ id: string }>(result.dataset.testUri)).map((e) => e.id);
    const trainIds = new Set((await deps.artifacts.readAllJsonl<{ id: string }>(result.dataset.trainUri)).map((e) => e.id));
    expect(testIds.filter((id) => trainIds.has(id))).toEqual([]);

    // Fine-tune: the first attempt was killed after its first checkpoint upload; the second resumed from an
    // uploaded checkpoint and ran to the end.
    const trainPids = pids.filter((p) => p.command === 'train');
    expect(trainPids.map((p) => p.attempt)).toEqual([1, 2]);
    expect(result.fineTune.attempt).toBe(2);
    expect(result.fineTune.resumedFromStep).toBeGreaterThan(0);
    expect(uploaded.filter((u) => u.attempt === 1).map((u) => u.step)).toContain(result.fineTune.resumedFromStep);
    expect(result.fineTune.metrics.globalStep).toBe(8);
    expect(await deps.artifacts.exists(`${result.fineTune.adapterUri}adapter_config.json`)).toBe(true);
    expect(await deps.artifacts.exists(`${result.fineTune.adapterUri}tokenizer.json`)).toBe(true);
    for (const p of pids) expect(alive(p.pid)).toBe(false);

    // Progress was visible through the query while training ran.
    const training = progressSeen.map((p) => p.training).filter((t) => t && t.step > 0);
    expect(training.length).toBeGreaterThan(0);
    expect(training.at(-1)).toMatchObject({ maxSteps: 8, device: 'cpu' });
    expect(progressSeen.at(-1)!.stage).toBe('done');

    // Evaluation: the fine-tuned model and both baselines on the same test split; the scripted baselines' scores
    // are known exactly.
    const rows = Object.fromEntries(result.evaluations.map((e) => [e.model, e]));
    expect(Object.keys(rows)).toEqual(['train-mean', 'nearest-train', 'gpt4o-mini', 'gpt4o-mini-fewshot', 'tiny-llama-lora']);
    expect(rows['gpt4o-mini']).toMatchObject({ rougeLsum: 1, formatCompliance: 1, count: result.dataset.counts.test });
    expect(rows['gpt4o-mini']!.ratingsRmse).toBeCloseTo(0.5, 12); // culture off by one on every example, 4 ratings
    expect(rows['gpt4o-mini-fewshot']).toMatchObject({ ratingsRmse: 0, formatCompliance: 1 });
    expect(rows['gpt4o-mini-fewshot']!.rougeLsum!).toBeLessThan(1);
    expect(rows['gpt4o-mini']!.usage!.requests).toBe(result.dataset.counts.test);
    expect(rows['tiny-llama-lora']!.count).toBe(result.dataset.counts.test);
    expect(rows['tiny-llama-lora']!.rougeLsum).not.toBeNull();
    const fewShotRequest = chat.requests.find((r) => (r.body.messages ?? []).length === 6)!;
    expect(fewShotRequest.headers.authorization).toBe('Bearer sk-baseline');
    const predictions = await deps.artifacts.readAllJsonl<{ id: string; output: string }>(rows['tiny-llama-lora']!.predictionsUri);
    expect(predictions.map((p) => p.id).sort()).toEqual([...testIds].sort());

    // Report: the table, JSON and SVG chart in S3.
    // The no-LLM floors come first: every table has rows to beat, even offline.
    expect(result.report.markdown.split('\n').slice(0, 6)).toEqual([
      '| model | text ROUGE-Lsum | ratings RMSE |',
      '|---|---|---|',
      expect.stringMatching(/^\| train-mean \| n\/a \| \d\.\d{4} \|$/),
      expect.stringMatching(/^\| nearest-train \| 0\.\d{4} \| \d\.\d{4} \|$/),
      '| gpt4o-mini | 1.0000 | 0.5000 |',
      expect.stringMatching(/^\| gpt4o-mini-fewshot \| 0\.\d{4} \| 0\.0000 \|$/),
    ]);
    expect(result.report.markdown.split('\n')[6]).toMatch(/^\| tiny-llama-lora \| \d\.\d{4} \| (\d\.\d{4}|n\/a) \|$/);
    expect(rows['train-mean']).toMatchObject({ kind: 'baseline', rougeLsum: null, coverage: 1, unparsed: 0, count: result.dataset.counts.test });
    expect(rows['nearest-train']).toMatchObject({ kind: 'baseline', coverage: 1, unparsed: 0 });
    expect(await deps.artifacts.getText(result.report.chartUri)).toMatch(/^<svg /);
    expect(await deps.artifacts.getText(result.report.reportUri)).toContain(result.report.markdown);

    // Publish: a private repo with the adapter, tokenizer and a model card carrying the lineage; LFS for binaries.
    expect(result.publish).toMatchObject({ published: true, gatePassed: true, repo: 'acme/tiny-reviewer' });
    const repo = hub.repos.get('acme/tiny-reviewer')!;
    expect(repo.private).toBe(true);
    expect([...repo.files.keys()].sort()).toEqual(expect.arrayContaining(['README.md', 'adapter_config.json', 'adapter_model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'twinflow_lineage.json']));
    const weights = repo.files.get('adapter_model.safetensors')!;
    expect(hub.lfsObjects.size).toBeGreaterThan(0);
    expect([...hub.lfsObjects.values()].some((b) => b.equals(weights))).toBe(true);
    const card = repo.files.get('README.md')!.toString('utf8');
    // The base is a local folder, which the Hub rejects as base_model: the card omits it and says which base it needs.
    expect(card).toMatch(/^---\nlibrary_name: peft\nlicense: apache-2.0\n/);
    expect(card).toMatch(/The base model is not on the Hub \(`.*tiny-llama`/);
    expect(card).toContain(`- workflow id: \`train-`);
    expect(card).toContain(`version \`${result.dataset.version}\``);
    expect(card).toContain('name: ROUGE-Lsum');
    expect(hub.requests.every((r) => r.path.startsWith('/__lfs/') || r.authorization === `Bearer ${HF_TOKEN}`)).toBe(true);
  });

  it('cancelling the workflow mid-training stops the trainer process', async () => {
    let trainerPid: number | undefined;
    let cancelRequested: (() => void) | undefined;
    const trainingStarted = new Promise<void>((resolve) => (cancelRequested = resolve));
    const hooks: GpuHooks = {
      onTrainerSpawn: (e) => {
        if (e.command === 'train') trainerPid = e.pid;
      },
      onTrainerEvent: ({ event }) => {
        if (event.event === 'progress') cancelRequested?.();
      },
    };
    const err = await withWorkers(config, hooks, async ({ client, taskQueue, gpuTaskQueue }) => {
      const input = trainInput('it-cancel', gpuTaskQueue, { training: { ...trainInput('x', 'y').training, maxSteps: 100_000, saveSteps: 50_000 } });
      const handle = await client.workflow.start('train', { taskQueue, workflowId: `train-cancel-${taskQueue}`, args: [input] });
      await trainingStarted;
      expect(alive(trainerPid!)).toBe(true);
      await handle.cancel();
      return handle.result().catch((e: unknown) => e);
    });
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.name).toBe('CancelledFailure');
    expect(trainerPid).toBeDefined();
    expect(alive(trainerPid!)).toBe(false);
  });

  it('rejects a bad input at once, naming the field', async () => {
    const err = await withWorkers(config, {}, async ({ client, taskQueue, gpuTaskQueue }) =>
      client.workflow
        .execute('train', { taskQueue, workflowId: `train-bad-${taskQueue}`, args: [{ ...trainInput('bad', gpuTaskQueue), training: { lora: { r: -1 } } }] })
        .catch((e: unknown) => e),
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as { message: string; nonRetryable?: boolean };
    expect(cause.message).toMatch(/^invalid train input: training\.lora\.r: /);
    expect(cause.nonRetryable).toBe(true);
  });
});
