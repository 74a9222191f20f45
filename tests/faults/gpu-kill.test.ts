/**
 * Fault 2: kill -9 of the GPU worker's Node process in the middle of training. The `train` workflow runs on a CPU
 * worker process (workers/cpu.ts), the fine-tune on a GPU-queue worker process (workers/gpu.ts, which runs the
 * Python trainer of .twinflow/venv on the tiny Llama model, on CPU). Once a checkpoint is in S3 and training has gone
 * past it, the GPU worker's Node process is killed. A new GPU worker process picks the retried attempt up (after the
 * run's own heartbeat timeout, set in its input) and resumes from the S3 checkpoint: the step count continues.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeps } from '../../activities/deps';
import { commandLine } from '../../infra/processes';
import { TRAIN_PROGRESS_QUERY, type TrainInput, type TrainingProgress, type TrainProgress, type TrainResult } from '../../lib/schemas/train';
import { recordFaultRow } from '../harness/fault-report';
import { faultConfig } from '../harness/fault-stack';
import { startWorkerProcess, type WorkerProcess } from '../harness/fault-worker';
import { tinyCompanyTrainInput } from '../helpers/company-reviews';
import { alive } from '../helpers/process';
import { tinyModelDir } from '../integration/train/tiny-model';
import { scratchDir } from './support/run';
import { connectClient, waitUntil } from './support/temporal';

const MAX_STEPS = 16;
const SAVE_STEPS = 4;

let client: Client;
let closeClient: () => Promise<void>;
const workers: WorkerProcess[] = [];
const orphans = new Set<number>();

beforeAll(async () => {
  ({ client, close: closeClient } = await connectClient());
});

afterAll(async () => {
  for (const w of workers) await w.kill();
  for (const pid of orphans) if (alive(pid)) process.kill(-pid, 'SIGKILL');
  await closeClient?.();
});

function trainInput(tiny: string, gpuTaskQueue: string): TrainInput {
  return tinyCompanyTrainInput({
    name: 'faults-tiny-reviewer',
    tiny,
    model: 'tiny-llama-lora',
    training: { maxSteps: MAX_STEPS, saveSteps: SAVE_STEPS },
    generation: { maxNewTokens: 16 },
    // The run's own knob: a dead GPU worker's attempt is retried 10 s after its last heartbeat.
    gpu: { taskQueue: gpuTaskQueue, heartbeatTimeout: '10 seconds', progressIntervalSeconds: 0.01, retryInitialInterval: '1 second', maximumAttempts: 3 },
  });
}

/** Whether `pid` is a running trainer process (`python -m twinflow_trainer ...`). */
const isTrainer = (pid: number) => /\s-m twinflow_trainer\s/.test(commandLine(pid) ?? '');

describe('kill -9 of the GPU worker', () => {
  it('train GPU worker kill -9 mid-training', async () => {
    const name = 'train GPU worker kill -9 mid-training';
    const started = Date.now();
    const tiny = tinyModelDir();
    const work = scratchDir('gpu-work');
    const gpuEnv = { TWINFLOW_TRAINER_WORK_DIR: work, TWINFLOW_MODEL_CACHE_DIR: path.join(work, 'models') };
    const taskQueue = `faults-train-${randomUUID()}`;
    const gpuTaskQueue = `faults-gpu-${randomUUID()}`;
    const cpu = await startWorkerProcess({ kind: 'cpu', taskQueue, name: 'train-cpu' });
    workers.push(cpu);
    const gpu1 = await startWorkerProcess({ kind: 'gpu', taskQueue: gpuTaskQueue, env: gpuEnv, name: 'train-gpu-doomed' });
    workers.push(gpu1);

    const workflowId = `train-gpu-kill-${randomUUID()}`;
    const handle = await client.workflow.start('train', { taskQueue, workflowId, args: [trainInput(tiny, gpuTaskQueue)] });
    const runId = handle.firstExecutionRunId;
    const seen: TrainingProgress[] = [];
    const poll = setInterval(() => {
      handle
        .query<TrainProgress>(TRAIN_PROGRESS_QUERY)
        .then((p) => p.training && seen.push({ ...p.training }))
        .catch(() => undefined);
    }, 200);

    try {
      // Mid-training: a checkpoint is uploaded and training has gone past it. The tiny model trains at very different
      // speeds on an idle or a busy machine (16 steps in 1.5 s or in 2 minutes), so once training runs the trainer is
      // stepped: frozen (SIGSTOP to its process group), progress read (every step is signalled), let run 150 ms.
      const query = async () => (await handle.query<TrainProgress>(TRAIN_PROGRESS_QUERY).catch(() => undefined))?.training;
      const trainers = await waitUntil(
        'the trainer process of attempt 1',
        async () => {
          // Only the trainer itself (python -m twinflow_trainer, leader of its own process group): another short-lived
          // child of the worker seen at that moment would be gone before it could be stepped (kill ESRCH).
          const kids = gpu1.children().filter((pid) => isTrainer(pid));
          return (await query())?.attempt === 1 && kids.length > 0 ? kids : undefined;
        },
        300_000,
        50,
      );
      for (const pid of trainers) orphans.add(pid);
      const group = (sig: NodeJS.Signals) => trainers.forEach((pid) => process.kill(-pid, sig));
      const atKill = await waitUntil(
        () => `training past its first uploaded checkpoint (last progress seen: ${JSON.stringify(seen.at(-1) ?? null)}, ${seen.length} samples)`,
        async () => {
          group('SIGSTOP');
          await sleep(300); // the last step's signal and a checkpoint upload in flight land meanwhile
          const t = await query();
          const ckpt = Number(/checkpoint-(\d+)\/?$/.exec(t?.lastCheckpointUri ?? '')?.[1] ?? 0);
          if (t && t.attempt === 1 && ckpt > 0 && t.step > ckpt && t.step < MAX_STEPS) return { ...t, checkpointStep: ckpt };
          group('SIGCONT');
          await sleep(150);
          return undefined;
        },
        300_000,
        0,
      );
      // kill -9 of the GPU worker's Node process; its trainer runs on as it would have.
      await gpu1.kill();
      group('SIGCONT');
      const killedAt = Date.now();

      // The trainer is in its own process group: it outlives its parent until it next writes an event to the pipe.
      const orphanDiedMs = await waitUntil('the orphaned trainer to exit', async () => (trainers.every((p) => !alive(p)) ? Date.now() - killedAt : undefined), 60_000, 50).catch(
        () => -1,
      );

      const gpu2 = await startWorkerProcess({ kind: 'gpu', taskQueue: gpuTaskQueue, env: gpuEnv, name: 'train-gpu-successor' });
      workers.push(gpu2);
      const result = (await handle.result()) as TrainResult;
      const recoveryMs = Date.now() - killedAt;
      await sleep(300);

      // The same run finished.
      const desc = await client.workflow.getHandle(workflowId).describe();
      expect(desc.runId).toBe(runId);
      expect(desc.status.name).toBe('COMPLETED');

      // Resumed, not restarted: attempt 2 started from the checkpoint step and counted on from there to the end.
      const ft = result.fineTune;
      expect(ft.attempt).toBe(2);
      expect(ft.resumedFromStep).toBe(atKill.checkpointStep);
      expect(ft.metrics.globalStep).toBe(MAX_STEPS);
      const second = seen.filter((p) => p.attempt === 2);
      expect(second.length).toBeGreaterThan(0);
      expect(Math.min(...second.map((p) => p.step))).toBeGreaterThanOrEqual(atKill.checkpointStep);
      expect(second.every((p) => p.resumedFromStep === atKill.checkpointStep)).toBe(true);

      // The store: every checkpoint of a clean run (one per saveSteps, keyed by step) exactly once, the adapter, the
      // dataset of a clean run.
      const deps = createDeps(faultConfig());
      const safe = (s: string) => s.replace(/[^A-Za-z0-9._=-]/g, '_');
      const prefix = `runs/${safe(workflowId)}/${safe(runId)}/finetune/checkpoints/`;
      const ckptDirs = new Set<string>();
      for await (const o of deps.artifacts.list(prefix)) ckptDirs.add(o.key.slice(prefix.length).split('/')[0]!);
      const expected = Array.from({ length: MAX_STEPS / SAVE_STEPS }, (_, i) => `checkpoint-${(i + 1) * SAVE_STEPS}`);
      expect([...ckptDirs].sort()).toEqual([...expected].sort());
      expect(await deps.artifacts.exists(`${ft.adapterUri}adapter_config.json`)).toBe(true);
      expect(result.dataset.counts).toEqual({ train: 50, validation: 0, test: 6 });
      // The no-LLM floor rows lead every evaluation table, then the fine-tuned model.
      expect(result.evaluations.map((e) => e.model)).toEqual(['train-mean', 'nearest-train', 'tiny-llama-lora']);
      for (const pid of trainers) expect(alive(pid)).toBe(false);

      const redone = atKill.step - atKill.checkpointStep;
      recordFaultRow({
        name,
        order: 3,
        injected: `SIGKILL of the GPU worker's Node process at training step ${atKill.step}/${MAX_STEPS} of attempt 1 (checkpoint-${atKill.checkpointStep} in S3)`,
        happened:
          `the detached Python trainer ${orphanDiedMs >= 0 ? `outlived it by ${(orphanDiedMs / 1000).toFixed(1)} s (until its next event write hit the closed pipe)` : 'was still running 60 s later'}; ` +
          `after the run's 10 s heartbeat timeout a new GPU worker process ran attempt 2, which resumed from checkpoint-${ft.resumedFromStep} ` +
          `(${redone} step(s) redone) and reached step ${ft.metrics.globalStep}; the same run completed ${(recoveryMs / 1000).toFixed(0)} s after the kill`,
        clean: { documents: 50, points: MAX_STEPS },
        after: { documents: result.dataset.counts.train, points: ft.metrics.globalStep },
        units: { documents: 'train examples', points: 'steps' },
        lost: MAX_STEPS - ft.metrics.globalStep,
        duplicated: [...ckptDirs].filter((d) => !expected.includes(d)).length,
        metrics: { killedAtStep: atKill.step, resumedFromStep: ft.resumedFromStep ?? -1, stepsRedone: redone, orphanTrainerMs: orphanDiedMs, recoveryMs, checkpoints: ckptDirs.size },
        wallMs: Date.now() - started,
      });
      await gpu2.stop();
      await cpu.stop();
    } finally {
      clearInterval(poll);
    }
  });
});
