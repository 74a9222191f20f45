/**
 * Shared by the review and eval-model tests: a scripted OpenAI-compatible baseline (and the fixture that serves it
 * with the tiny model around a file's tests), a tiny-model train input sized for seconds, a small dataset version
 * written straight to S3, the wait for the review stage. The workers are tests/harness/train-workers.ts's, the
 * company records tests/helpers/company-reviews.ts's.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, expect } from 'vitest';
import type { TwinflowClient } from '../../../client';
import type { ArtifactStore } from '../../../lib/artifacts';
import { type Config, PROJECT_ROOT } from '../../../lib/config';
import { formatOutput } from '../../../lib/metrics/output-format';
import type { DatasetManifest, Example, TrainInput, TrainProgress } from '../../../lib/schemas/train';
import { type Company, companies, ratingsOf, REVIEW_SYSTEM, reviewFormat, tinyCompanyTrainInput } from '../../helpers/company-reviews';
import { testConfig } from '../../harness/stack';
import { type OpenAIChatServer, type ReceivedChatRequest, type ScriptedReply, startOpenAIChatServer } from '../../helpers/openai-chat-server';
import { historyToJson } from '../../replay/history-json';
import { tinyModelDir } from './tiny-model';

/** A baseline that knows every company: zero-shot answers the exact review; few-shot only its first sentence. */
export function baselineResponder(req: ReceivedChatRequest): ScriptedReply {
  const messages = req.body.messages ?? [];
  const last = messages.at(-1)!.content;
  const c = companies.find((x) => last.startsWith(`Review ${x.name}:`));
  if (!c) return { content: 'I do not know this company.' };
  const fewShot = messages.filter((m) => m.role === 'assistant').length > 0;
  return { content: formatOutput(fewShot ? String(c.review).split('\n')[0]! : String(c.review), ratingsOf(c), reviewFormat) };
}

export interface BaselineFixture {
  /** Set by the fixture's beforeAll: the tiny model's folder and the scripted baseline endpoint. */
  tiny: string;
  chat: OpenAIChatServer;
  /** The test stack's config with the baseline endpoint as the LLM. */
  config(): Config;
}

/** The tiny model and `baselineResponder` behind `apiKey`, for the file's tests (registers its beforeAll and afterAll). */
export function baselineFixture(apiKey: string): BaselineFixture {
  const fx = { config: () => testConfig({ LLM_BASE_URL: fx.chat.baseUrl, LLM_API_KEY: apiKey }) } as BaselineFixture;
  beforeAll(async () => {
    fx.tiny = tinyModelDir();
    fx.chat = await startOpenAIChatServer({ apiKey, respond: baselineResponder });
  }, 120_000);
  afterAll(async () => {
    await fx.chat?.close();
  });
  return fx;
}

function exampleOf(c: Company): Example {
  return {
    id: String(c.id),
    source: String(c.id),
    messages: [
      { role: 'system', content: REVIEW_SYSTEM },
      { role: 'user', content: `Review ${c.name}: ${c.description}` },
      { role: 'assistant', content: formatOutput(String(c.review), ratingsOf(c), reviewFormat) },
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
    format: reviewFormat,
  } as DatasetManifest;
  await artifacts.putJson(`${prefix}/manifest.json`, manifest);
  return manifest;
}

/** A train input on the tiny model that trains for one step on CPU and generates a few tokens. */
export function tinyTrainInput(name: string, tiny: string, gpuTaskQueue: string, patch: Partial<TrainInput> = {}): TrainInput {
  return tinyCompanyTrainInput(
    { name, tiny, model: 'tiny-lora', gpu: { taskQueue: gpuTaskQueue, heartbeatTimeout: '30 seconds', progressIntervalSeconds: 0.5, retryInitialInterval: '1 second', maximumAttempts: 2 } },
    { evaluation: { maxExamples: 3 }, ...patch },
  );
}

/** Polls the run's progress until it waits for a review decision; returns that progress. */
export async function untilReview(twinflow: TwinflowClient, workflowId: string): Promise<TrainProgress> {
  let p: TrainProgress | undefined;
  await expect
    .poll(async () => (p = await twinflow.trainProgress(workflowId).catch(() => undefined))?.stage, { timeout: 800_000, interval: 1000 })
    .toBe('review');
  return p!;
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
