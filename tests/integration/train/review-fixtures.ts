/**
 * Shared by the review and eval-model tests: the company-reviews records, a scripted OpenAI-compatible baseline,
 * a tiny-model train input sized for seconds, a small dataset version written straight to S3, and a CPU worker plus
 * a GPU-queue worker around a test body.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createActivities } from '../../../activities';
import { createDeps } from '../../../activities/deps';
import { createGpuActivities } from '../../../activities/gpu';
import type { ArtifactStore } from '../../../lib/artifacts';
import { PROJECT_ROOT } from '../../../lib/config';
import { formatOutput } from '../../../lib/metrics/output-format';
import { type DatasetManifest, type Example, outputFormatSchema, type TrainInput } from '../../../lib/schemas/train';
import { createWorker } from '../../../workers/worker';
import type { testConfig } from '../../harness/stack';
import { withWorker } from '../../harness/worker';
import type { ScriptedReply } from '../../helpers/openai-chat-server';
import type { ReceivedChatRequest } from '../../helpers/openai-chat-server';
import { historyToJson } from '../../replay/history-json';

export const companies = fs
  .readFileSync(path.join(PROJECT_ROOT, 'examples/reviews/companies.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Record<string, string | number>);
export const format = outputFormatSchema.parse({ ratings: { keys: ['overall', 'culture', 'compensation', 'balance'] } });
const SYSTEM = 'You review companies as an employee would.';

const ratingsOf = (c: Record<string, string | number>) => ({ overall: Number(c.overall), culture: Number(c.culture), compensation: Number(c.compensation), balance: Number(c.work_life_balance) });

/** A baseline that knows every company: zero-shot answers the exact review; few-shot only its first sentence. */
export function baselineResponder(req: ReceivedChatRequest): ScriptedReply {
  const messages = req.body.messages ?? [];
  const last = messages.at(-1)!.content;
  const c = companies.find((x) => last.startsWith(`Review ${x.name}:`));
  if (!c) return { content: 'I do not know this company.' };
  const fewShot = messages.filter((m) => m.role === 'assistant').length > 0;
  return { content: formatOutput(fewShot ? String(c.review).split('\n')[0]! : String(c.review), ratingsOf(c), format) };
}

function exampleOf(c: Record<string, string | number>): Example {
  return {
    id: String(c.id),
    source: String(c.id),
    messages: [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: `Review ${c.name}: ${c.description}` },
      { role: 'assistant', content: formatOutput(String(c.review), ratingsOf(c), format) },
    ],
  };
}

/** A dataset version of `train` + `test` companies written as the dataset step would (what loadDataset reads). */
export async function writeSmallDataset(artifacts: ArtifactStore, name: string, o: { train: number; test: number }): Promise<DatasetManifest> {
  const version = randomUUID().slice(0, 12);
  const prefix = `datasets/${name}/${version}`;
  const train = companies.slice(0, o.train).map(exampleOf);
  const test = companies.slice(o.train, o.train + o.test).map(exampleOf);
  const trainRef = await artifacts.putJsonl(`${prefix}/train.jsonl`, train);
  const validationRef = await artifacts.putJsonl(`${prefix}/validation.jsonl`, []);
  const testRef = await artifacts.putJsonl(`${prefix}/test.jsonl`, test);
  const manifest = {
    name,
    version,
    manifestUri: artifacts.uri(`${prefix}/manifest.json`),
    trainUri: trainRef.uri,
    validationUri: validationRef.uri,
    testUri: testRef.uri,
    cardUri: artifacts.uri(`${prefix}/README.md`),
    statsUri: artifacts.uri(`${prefix}/stats.json`),
    counts: { train: train.length, validation: 0, test: test.length },
    format,
  } as DatasetManifest;
  await artifacts.putJson(`${prefix}/manifest.json`, manifest);
  return manifest;
}

/** A train input on the tiny model that trains for `steps` steps on CPU and generates a few tokens. */
export function tinyTrainInput(name: string, tiny: string, gpuTaskQueue: string, patch: Partial<TrainInput> = {}): TrainInput {
  return {
    name,
    dataset: {
      name: 'company-reviews',
      source: {
        kind: 'records',
        uri: path.join(PROJECT_ROOT, 'examples/reviews/companies.jsonl'),
        idField: 'id',
        template: { system: SYSTEM, user: 'Review {{name}}: {{description}}', response: '{{review}}', ratingFields: { balance: 'work_life_balance' } },
      },
      format: { ratings: { keys: ['overall', 'culture', 'compensation', 'balance'] } },
      split: { validation: 0, test: 0.1, seed: 42 },
      tokenizer: tiny,
      maxSeqLength: 512,
    },
    model: { baseModel: tiny, name: 'tiny-lora' },
    training: {
      maxSteps: 1,
      saveSteps: 100,
      loggingSteps: 1,
      perDeviceBatchSize: 2,
      gradientAccumulationSteps: 1,
      learningRate: 1e-3,
      warmupRatio: 0,
      gradientCheckpointing: false,
      device: 'cpu',
      lora: { r: 4, alpha: 8, dropout: 0 },
    },
    generation: { maxNewTokens: 8, batchSize: 8, device: 'cpu' },
    evaluation: { maxExamples: 3 },
    gpu: { taskQueue: gpuTaskQueue, heartbeatTimeout: '30 seconds', progressIntervalSeconds: 0.5, retryInitialInterval: '1 second', maximumAttempts: 2 },
    ...patch,
  };
}

/** The CPU worker (workflows + CPU activities) and a GPU-queue worker (fine-tune, generate) around `fn`. */
export async function withTrainWorkers<T>(config: ReturnType<typeof testConfig>, fn: (ctx: { client: Client; taskQueue: string; gpuTaskQueue: string }) => Promise<T>): Promise<T> {
  const deps = createDeps(config);
  await deps.artifacts.ensureBucket();
  const gpuTaskQueue = `gpu-test-${randomUUID()}`;
  return withWorker(config, createActivities(deps), async ({ client, taskQueue }) => {
    const connection = await NativeConnection.connect({ address: config.temporal.address });
    let gpuWorker: Worker | undefined;
    try {
      gpuWorker = await createWorker({
        config,
        connection,
        taskQueue: gpuTaskQueue,
        activities: createGpuActivities(deps),
        maxConcurrentActivities: 1,
        withWorkflows: false,
        shutdownGraceTime: '5 seconds',
      });
      return await gpuWorker.runUntil(fn({ client, taskQueue, gpuTaskQueue }));
    } finally {
      await connection.close();
    }
  });
}

/**
 * With TWINFLOW_RECORD_REPLAY=1, writes the run's history to tests/replay/histories/<file> (and its workflow id to
 * workflow-ids.json) for the replay test: how the histories of evaluateModel and of train with variants and review
 * were recorded.
 */
export async function recordReplayHistory(handle: WorkflowHandle, file: string): Promise<void> {
  if (!process.env.TWINFLOW_RECORD_REPLAY) return;
  const dir = path.join(PROJECT_ROOT, 'tests', 'replay', 'histories');
  fs.writeFileSync(path.join(dir, file), historyToJson(await handle.fetchHistory()));
  const ids = JSON.parse(fs.readFileSync(path.join(dir, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
  ids[file] = handle.workflowId;
  fs.writeFileSync(path.join(dir, 'workflow-ids.json'), `${JSON.stringify(ids, Object.keys(ids).sort(), 2)}\n`);
}
