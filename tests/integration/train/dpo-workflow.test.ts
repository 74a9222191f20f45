/**
 * The `train` workflow's optional DPO stage (input.dpo) end to end on the real stack (Temporal + MinIO), tiny Llama
 * model on CPU: SFT, then `preferenceTune` on the GPU queue (the real trainer's `dpo` command, TRL's DPOTrainer), then
 * generation, evaluation, report and a dry-run publish, all of which must use the DPO adapter. Both pair sources:
 * generated (the SFT model's own answer rejected, the reference chosen) and records (a pairs file in S3), the second
 * with its trainer killed after its first checkpoint, so the retry must resume from it as SFT does.
 */
import { randomUUID } from 'node:crypto';
import { type Client, type WorkflowHandle, WorkflowFailedError } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDeps } from '../../../activities/deps';
import type { GpuHooks } from '../../../activities/gpu';
import type { Dpo } from '../../../lib/schemas/dpo';
import { type Example, type TrainInput, type TrainProgress, type TrainResult, TRAIN_PROGRESS_QUERY } from '../../../lib/schemas/train';
import { testConfig } from '../../harness/stack';
import { withTrainWorkers } from '../../harness/train-workers';
import { tinyCompanyTrainInput } from '../../helpers/company-reviews';
import { alive } from '../../helpers/process';
import { tinyModelDir } from './tiny-model';

let tiny: string;
beforeAll(() => {
  tiny = tinyModelDir();
}, 120_000);

const config = testConfig({});
const deps = createDeps(config);

/** DPO sized for seconds on CPU: 4 steps, a checkpoint every 2, a learning rate a tiny model notices. */
const tinyDpo = (over: Partial<Dpo> = {}): Partial<Dpo> => ({
  maxSteps: 4,
  saveSteps: 2,
  loggingSteps: 1,
  perDeviceBatchSize: 2,
  gradientAccumulationSteps: 1,
  learningRate: 5e-3,
  lrScheduler: 'constant',
  warmupRatio: 0,
  generateMaxNewTokens: 8,
  ...over,
});

function trainInput(name: string, gpuTaskQueue: string, patch: Partial<TrainInput>): TrainInput {
  return tinyCompanyTrainInput(
    {
      name,
      tiny,
      model: 'tiny-dpo',
      // Two SFT steps (its only checkpoint the trainer's final one): the SFT stage is train-workflow.test.ts's subject.
      training: { maxSteps: 2 },
      gpu: { taskQueue: gpuTaskQueue, heartbeatTimeout: '5 seconds', progressIntervalSeconds: 0.2, retryInitialInterval: '1 second', maximumAttempts: 3 },
    },
    { evaluation: { maxExamples: 3 }, publish: { repo: 'acme/tiny-dpo', dryRun: true, gate: { minRougeLsum: 0 } }, ...patch },
  );
}

interface Observed {
  progress: TrainProgress[];
  /** Heartbeat details of the pending preferenceTune activity, as the server holds them. */
  heartbeats: Array<{ attempt: number; details: { step: number; checkpointKey?: string; attempt: number } }>;
}

type Scheduled = Array<{ type: string; input: Record<string, unknown> }>;

/**
 * Runs the workflow to its result while polling its progress query and its pending activities' heartbeats; returns
 * the activities it scheduled too (read while the workers' client is still connected).
 */
async function runObserved(client: Client, taskQueue: string, workflowId: string, input: TrainInput): Promise<{ result: TrainResult; seen: Observed; activities: Scheduled }> {
  const handle = await client.workflow.start('train', { taskQueue, workflowId, args: [input] });
  const seen: Observed = { progress: [], heartbeats: [] };
  const poll = setInterval(() => {
    handle
      .query<TrainProgress>(TRAIN_PROGRESS_QUERY)
      .then((p) => seen.progress.push(p))
      .catch(() => undefined);
    handle
      .describe()
      .then((d) => {
        for (const a of d.raw.pendingActivities ?? []) {
          const payload = a.heartbeatDetails?.payloads?.[0];
          if (a.activityType?.name === 'preferenceTune' && payload) {
            seen.heartbeats.push({ attempt: a.attempt ?? 0, details: defaultPayloadConverter.fromPayload(payload as Payload) });
          }
        }
      })
      .catch(() => undefined);
  }, 300);
  try {
    const result = (await handle.result()) as TrainResult;
    return { result, seen, activities: await scheduledActivities(handle) };
  } finally {
    clearInterval(poll);
  }
}

/** The activities the run scheduled, in history order, each with its decoded input. */
async function scheduledActivities(handle: WorkflowHandle): Promise<Scheduled> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const a = e.activityTaskScheduledEventAttributes;
    if (!a) return [];
    const payload = a.input?.payloads?.[0];
    return [{ type: a.activityType?.name ?? '', input: payload ? defaultPayloadConverter.fromPayload<Record<string, unknown>>(payload as Payload) : {} }];
  });
}

/** An adapter_config.json with its target modules in a stable order (PEFT writes a set, in any order). */
const adapterShape = (c: { target_modules: string[] }) => ({ ...c, target_modules: [...c.target_modules].sort() });

/** What every DPO run must show: SFT then DPO then generation on the DPO adapter, which is also what is published. */
async function expectDpoAdapterUsedThroughout(activities: Scheduled, result: TrainResult, dpoSteps: number): Promise<void> {
  const types = activities.map((a) => a.type);
  const sftAt = types.indexOf('fineTune');
  const dpoAt = types.indexOf('preferenceTune');
  const genAt = types.indexOf('generatePredictions');
  expect(types.filter((t) => t === 'preferenceTune')).toHaveLength(1);
  expect(sftAt).toBeGreaterThanOrEqual(0);
  expect(dpoAt).toBeGreaterThan(sftAt);
  expect(genAt).toBeGreaterThan(dpoAt);
  expect(types.indexOf('publishModel')).toBeGreaterThan(genAt);

  const sft = result.fineTune.sft!;
  expect(sft).toBeDefined();
  expect(sft.adapterUri).toMatch(/\/model\/adapter\/$/);
  expect(result.fineTune.adapterUri).toMatch(/\/model\/dpo-adapter\/$/);
  // DPO started from the SFT adapter; generation and publishing took the DPO one.
  expect((activities[dpoAt]!.input.dpo as { sftAdapterUri: string }).sftAdapterUri).toBe(sft.adapterUri);
  expect(activities[genAt]!.input.adapterUri).toBe(result.fineTune.adapterUri);
  expect(activities.find((a) => a.type === 'publishModel')!.input.adapterUri).toBe(result.fineTune.adapterUri);

  // The DPO adapter is a trained adapter of the SFT one's shape, not a copy of it; the dry-run publish holds its bytes.
  const dpoWeights = await deps.artifacts.getBytes(`${result.fineTune.adapterUri}adapter_model.safetensors`);
  const sftWeights = await deps.artifacts.getBytes(`${sft.adapterUri}adapter_model.safetensors`);
  expect(adapterShape(await deps.artifacts.getJson(`${result.fineTune.adapterUri}adapter_config.json`))).toEqual(adapterShape(await deps.artifacts.getJson(`${sft.adapterUri}adapter_config.json`)));
  expect(await deps.artifacts.exists(`${result.fineTune.adapterUri}tokenizer.json`)).toBe(true);
  expect(dpoWeights.equals(sftWeights)).toBe(false);
  expect(result.publish).toMatchObject({ dryRun: true, gatePassed: true, repo: 'acme/tiny-dpo' });
  expect((await deps.artifacts.getBytes(`${result.publish!.dryRunUri!}adapter_model.safetensors`)).equals(dpoWeights)).toBe(true);
  // The card and the lineage file say the weights came out of DPO, from which SFT adapter, on which pairs.
  const card = await deps.artifacts.getText(`${result.publish!.dryRunUri!}README.md`);
  expect(card).toContain('trained with twinflow (TRL SFT then DPO + PEFT)');
  expect(card).toMatch(/^\| preference tuning \| DPO \(sigmoid\)/m);
  expect(card).toContain(`- SFT adapter DPO started from: ${sft.adapterUri}`);
  const lineage = await deps.artifacts.getJson<{ dpo?: { sftAdapterUri: string; pairsUri?: string; metrics?: { pairs: number } } }>(`${result.publish!.dryRunUri!}twinflow_lineage.json`);
  expect(lineage.dpo).toMatchObject({ sftAdapterUri: sft.adapterUri, metrics: { pairs: result.fineTune.dpo!.pairs } });
  expect(lineage.dpo!.pairsUri).toBeTruthy();

  // Metrics: the DPO run's own steps, its reward statistics, and both stages' loss curves in the report.
  expect(result.fineTune.metrics.globalStep).toBe(dpoSteps);
  expect(result.fineTune.metrics.trainLoss).toBeGreaterThan(0);
  expect(sft.metrics.globalStep).toBe(2);
  const { rewardAccuracy, rewardMargin } = result.fineTune.dpo!;
  expect(rewardAccuracy).toBeGreaterThanOrEqual(0);
  expect(rewardAccuracy).toBeLessThanOrEqual(1);
  expect(typeof rewardMargin).toBe('number');
  expect(result.fineTune.lossCurveUri).toMatch(/\/dpo\/loss-curve\.svg$/);
  expect(await deps.artifacts.getText(result.fineTune.lossCurveUri!)).toContain('data-label="train loss"');
  // TensorBoard event files of the DPO stage, beside its loss curve.
  expect(result.fineTune.tensorboardUri).toMatch(/\/dpo\/tensorboard\/?$/);
  const events: string[] = [];
  for await (const o of deps.artifacts.list(deps.artifacts.keyOf(result.fineTune.tensorboardUri!).replace(/\/?$/, '/'))) events.push(o.key);
  expect(events.some((k) => /events\.out\.tfevents\./.test(k))).toBe(true);
  const report = await deps.artifacts.getText(result.report.reportUri);
  expect(report).toContain('![tiny-dpo SFT loss](loss-tiny-dpo-sft.svg)');
  expect(report).toContain('![tiny-dpo DPO loss](loss-tiny-dpo-dpo.svg)');
  const reportDir = result.report.reportUri.replace(/report\.md$/, '');
  expect(await deps.artifacts.getText(`${reportDir}loss-tiny-dpo-dpo.svg`)).toBe(await deps.artifacts.getText(result.fineTune.lossCurveUri!));
  expect(result.evaluations.map((e) => e.model)).toContain('tiny-dpo');
}

/** What a test sees of the trainer processes: every spawn, and the DPO trainer's events with their attempt. */
function watchTrainer() {
  const pids: Array<{ pid: number; attempt: number; command: string }> = [];
  const dpoEvents: Array<{ event: Record<string, unknown>; attempt: number }> = [];
  return {
    pids,
    dpoEvents,
    onTrainerSpawn: (e: { pid: number; attempt: number; command: string }) => pids.push(e),
    /** Records a DPO event; false for the SFT trainer's. */
    recordDpo: (e: { command: string; event: Record<string, unknown>; attempt: number }) => e.command === 'dpo' && dpoEvents.push(e) > 0,
    /** Attempt 1's DPO trainer process (the one the crash tests stop or kill). */
    firstDpoPid: () => pids.find((p) => p.command === 'dpo' && p.attempt === 1)!.pid,
    dpoAttempts: () => pids.filter((p) => p.command === 'dpo').map((p) => p.attempt),
  };
}

describe('train workflow with the DPO stage, on the real stack with the tiny model', () => {
  let generated: TrainResult | undefined;

  it('generated pairs: the SFT model answers the train prompts (rejected) against their references (chosen), DPO trains on them, and its adapter is evaluated and published', async () => {
    const trainer = watchTrainer();
    const { dpoEvents } = trainer;
    const hooks: GpuHooks = { onTrainerEvent: trainer.recordDpo };
    const started = Date.now();
    const { result, seen, activities } = await withTrainWorkers(
      config,
      ({ client, taskQueue, gpuTaskQueue }) => runObserved(client, taskQueue, `train-dpo-gen-${taskQueue}`, trainInput('it-dpo-generated', gpuTaskQueue, { dpo: tinyDpo() as Dpo })),
      { hooks, deps },
    );
    console.log(`generated-pairs DPO run: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    generated = result;

    await expectDpoAdapterUsedThroughout(activities, result, 4);

    // The pairs: one per train example whose generated answer differs from the reference, kept with the run.
    const train = await deps.artifacts.readAllJsonl<Example>(result.dataset.trainUri);
    const byId = new Map(train.map((e) => [e.id, e]));
    expect(result.fineTune.pairsUri).toMatch(/\/dpo\/pairs\.jsonl$/);
    const pairs = await deps.artifacts.readAllJsonl<{ id: string; prompt: Array<{ role: string; content: string }>; chosen: string; rejected: string }>(result.fineTune.pairsUri!);
    expect(result.fineTune.dpo).toMatchObject({ pairs: pairs.length, pairsDropped: train.length - pairs.length });
    expect(pairs.length).toBeGreaterThan(0);
    // Their summary sits beside them (kept as soon as they were generated): a retried attempt reuses both.
    const summary = await deps.artifacts.getJson<{ key: string; pairs: number; dropped: number }>(result.fineTune.pairsUri!.replace(/pairs\.jsonl$/, 'pairs-summary.json'));
    expect(summary).toMatchObject({ pairs: pairs.length, dropped: train.length - pairs.length });
    for (const p of pairs) {
      const ex = byId.get(p.id)!;
      expect(ex).toBeDefined();
      expect(p.prompt).toEqual(ex.messages.slice(0, -1));
      expect(p.chosen).toBe(ex.messages.at(-1)!.content);
      expect(p.rejected.trim()).not.toBe('');
      expect(p.rejected.trim()).not.toBe(p.chosen.trim());
    }

    // The trainer's DPO steps 1..4: at step 1 the policy is the reference (the SFT adapter), so the sigmoid loss is ln 2.
    // Before them, the same process generated the rejected answers: one answer per train prompt (its `done`/`total`
    // progress events, which carry no step).
    const progress = dpoEvents.filter((e) => e.event.event === 'progress' && typeof e.event.step === 'number').map((e) => e.event);
    const generation = dpoEvents.filter((e) => e.event.event === 'progress' && typeof e.event.done === 'number').map((e) => e.event);
    expect(generation.at(-1)).toMatchObject({ done: train.length, total: train.length });
    expect(progress.map((p) => p.step)).toEqual([1, 2, 3, 4]);
    expect(progress[0]!.loss as number).toBeCloseTo(Math.log(2), 3);
    expect(dpoEvents.filter((e) => e.event.event === 'checkpoint').map((e) => e.event.step)).toEqual([2, 4]);
    expect(result.fineTune).toMatchObject({ checkpoints: 2, attempt: 1, resumedFromStep: null });

    // Progress of the DPO stage reached the workflow's query (signals), and the activity heartbeated its steps. Four
    // tiny steps can pass between two polls: the training figures stay in the state into 'generate' (reset when the
    // DPO stage started, so they are DPO's), which a 300 ms poll does not miss.
    const dpoProgress = seen.progress.filter((p) => (p.stage === 'dpo' || p.stage === 'generate') && p.training && p.training.step > 0);
    expect(dpoProgress.length).toBeGreaterThan(0);
    expect(dpoProgress.at(-1)!.training).toMatchObject({ maxSteps: 4, device: 'cpu' });
    // The server holds a heartbeat of the DPO activity (its details at most every 4 s, 0.8 × heartbeatTimeout: what
    // they carry is checked on the retried attempt of the next test, which lasts long enough to show them).
    expect(seen.heartbeats.filter((h) => h.attempt === 1).length).toBeGreaterThan(0);
  });

  it('record pairs from S3, the trainer killed after its first DPO checkpoint: the retry resumes from it and finishes', async () => {
    // The previous test's dataset (by manifest, not rebuilt) and pairs from its train split: one consistent
    // preference (the reference review over a refusal), which the tiny model picks up within a few steps.
    const dataset = generated?.dataset ?? expect.fail('needs the generated-pairs run and its dataset');
    const train = await deps.artifacts.readAllJsonl<Example>(dataset.trainUri);
    const pairs = train.slice(0, 16).map((e) => ({ id: e.id, prompt: e.messages.slice(0, -1), chosen: e.messages.at(-1)!.content, rejected: 'I do not know this company.' }));
    const pairsUri = (await deps.artifacts.putJsonl(`it-dpo/${randomUUID()}/pairs.jsonl`, pairs)).uri;

    const uploaded: Array<{ step: number; attempt: number; key: string }> = [];
    const trainer = watchTrainer();
    const { pids, dpoEvents } = trainer;
    const hooks: GpuHooks = {
      onTrainerSpawn: trainer.onTrainerSpawn,
      onTrainerEvent: (e) => {
        if (!trainer.recordDpo(e)) return;
        // Freeze the first DPO attempt at its first checkpoint, so the crash below lands right after its upload.
        if (e.attempt === 1 && e.event.event === 'checkpoint' && uploaded.length === 0) process.kill(trainer.firstDpoPid(), 'SIGSTOP');
      },
      onCheckpointUploaded: (u) => {
        if (!u.key.includes('/dpo/checkpoints/')) return; // the SFT stage's final checkpoint
        uploaded.push(u);
        if (u.attempt === 1 && uploaded.length === 1) process.kill(trainer.firstDpoPid(), 'SIGKILL');
      },
    };
    const started = Date.now();
    const { result, seen, activities } = await withTrainWorkers(
      config,
      ({ client, taskQueue, gpuTaskQueue }) =>
        runObserved(client, taskQueue, `train-dpo-rec-${taskQueue}`, {
          ...trainInput('it-dpo-records', gpuTaskQueue, { dpo: tinyDpo({ pairs: 'records', pairsUri }) as Dpo }),
          dataset: { manifestUri: dataset.manifestUri },
        } as TrainInput),
      { hooks, deps },
    );
    console.log(`record-pairs DPO run with a crash: ${((Date.now() - started) / 1000).toFixed(1)} s`);

    await expectDpoAdapterUsedThroughout(activities, result, 4);
    expect(result.dataset.version).toBe(dataset.version);
    expect(result.fineTune.dpo).toMatchObject({ pairs: 16, pairsDropped: 0 });
    expect(result.fineTune.pairsUri).toBeUndefined(); // nothing generated: the pairs are the input's

    // The crash and the resume: attempt 1 uploaded checkpoint-2 under dpo/checkpoints and died; attempt 2 resumed there.
    expect(trainer.dpoAttempts()).toEqual([1, 2]);
    expect(uploaded[0]).toMatchObject({ step: 2, attempt: 1 });
    expect(uploaded[0]!.key).toMatch(/\/dpo\/checkpoints\/checkpoint-2$/);
    expect(result.fineTune).toMatchObject({ attempt: 2, resumedFromStep: 2 });
    const steps = (attempt: number) => dpoEvents.filter((e) => e.attempt === attempt && e.event.event === 'progress' && typeof e.event.step === 'number').map((e) => e.event);
    expect(steps(1).map((p) => p.step)).toEqual([1, 2]);
    expect(steps(2).map((p) => p.step)).toEqual([3, 4]);
    for (const p of pids) expect(alive(p.pid)).toBe(false);

    // It learnt the preference: ln 2 at step 1, lower by step 4.
    expect(steps(1)[0]!.loss as number).toBeCloseTo(Math.log(2), 3);
    expect(steps(2).at(-1)!.loss as number).toBeLessThan(steps(1)[0]!.loss as number);
    expect(result.fineTune.dpo!.rewardMargin!).toBeGreaterThan(0);

    // The retried attempt's heartbeats carried the checkpoint it resumed from (the resume point a third attempt would use).
    const second = seen.heartbeats.filter((h) => h.attempt === 2);
    expect(second.length).toBeGreaterThan(0);
    expect(second.some((h) => h.details.checkpointKey === uploaded[0]!.key)).toBe(true);
  });

  it('generated pairs, the trainer killed after generating them: the retry reuses the kept pairs instead of generating again', async () => {
    const dataset = generated?.dataset ?? expect.fail('needs the generated-pairs run and its dataset');
    const trainer = watchTrainer();
    const { pids, dpoEvents } = trainer;
    const hooks: GpuHooks = {
      onTrainerSpawn: trainer.onTrainerSpawn,
      onTrainerEvent: (e) => {
        if (!trainer.recordDpo(e)) return;
        // Killed at its first DPO step: the pairs exist (and are being kept), no checkpoint does yet.
        if (e.attempt === 1 && e.event.event === 'progress' && e.event.step === 1) process.kill(trainer.firstDpoPid(), 'SIGKILL');
      },
    };
    const { result } = await withTrainWorkers(
      config,
      ({ client, taskQueue, gpuTaskQueue }) =>
        runObserved(client, taskQueue, `train-dpo-gen-retry-${taskQueue}`, {
          ...trainInput('it-dpo-generated-retry', gpuTaskQueue, { dpo: tinyDpo() as Dpo }),
          dataset: { manifestUri: dataset.manifestUri },
        } as TrainInput),
      { hooks, deps },
    );
    const of = (attempt: number, name: string) => dpoEvents.filter((e) => e.attempt === attempt && e.event.event === name);
    expect(trainer.dpoAttempts()).toEqual([1, 2]);
    expect(of(1, 'pairs')).toHaveLength(1);
    expect(of(2, 'pairs')).toHaveLength(0); // reused: no second generation
    expect(of(2, 'progress').filter((e) => typeof e.event.done === 'number')).toHaveLength(0);
    expect(result.fineTune).toMatchObject({ attempt: 2, resumedFromStep: null });
    // The same pairs as the first attempt generated, and the same counts (the summary carries the dropped ones).
    const kept = of(1, 'pairs')[0]!.event;
    expect(result.fineTune.dpo).toMatchObject({ pairs: kept.pairs, pairsDropped: kept.dropped });
    for (const p of pids) expect(alive(p.pid)).toBe(false);
  });

  it('refuses a dpo block the schema rejects at once, naming the field, before any activity', async () => {
    const bad: Array<[string, unknown, string]> = [
      ['records', { pairs: 'records' }, 'invalid train input: dpo.pairsUri: pairs "records" needs pairsUri (JSON Lines of prompt, chosen, rejected)'],
      ['steps', { maxSteps: 0 }, 'invalid train input: dpo.maxSteps: must be -1 or a positive number of steps'],
    ];
    const outcomes = await withTrainWorkers(
      config,
      async ({ client, taskQueue, gpuTaskQueue }) =>
        Promise.all(
          bad.map(async ([name, dpo]) => {
            const workflowId = `train-dpo-bad-${name}-${taskQueue}`;
            const err = await client.workflow.execute('train', { taskQueue, workflowId, args: [trainInput('bad', gpuTaskQueue, { dpo: dpo as Dpo })] }).catch((e: unknown) => e);
            return { err, activities: await scheduledActivities(client.workflow.getHandle(workflowId)) };
          }),
        ),
      { deps },
    );
    for (const [i, { err, activities }] of outcomes.entries()) {
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const cause = (err as WorkflowFailedError).cause as { message: string; nonRetryable?: boolean };
      expect(cause.message).toBe(bad[i]![2]);
      expect(cause.nonRetryable).toBe(true);
      expect(activities).toEqual([]);
    }
  });
});
