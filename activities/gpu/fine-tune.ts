/**
 * The fine-tune activity (GPU task queue): S3 data → trainer subprocess → checkpoints and adapter in S3.
 *
 * - Progress lines become heartbeats (small details: step, loss, last checkpoint key) and, at most every
 *   `progressIntervalSeconds` (checkpoints always), a signal to the workflow, which serves them through its query.
 * - Each checkpoint the trainer saves is snapshotted (hard links) and uploaded in order while training goes on.
 * - A retried attempt resumes from the last uploaded checkpoint: the key in the heartbeat details of the previous
 *   attempt, else the newest complete checkpoint under this run's prefix.
 * - Cancellation (delivered through the heartbeat) stops the trainer: SIGTERM to its process group, SIGKILL after
 *   the grace period.
 * - With `dpo`, the same contract runs the preference-tuning stage (`python -m twinflow_trainer dpo`) on the SFT
 *   adapter, under `<run>/dpo/` and `<run>/model/dpo-adapter/`.
 * - The trainer's TensorBoard event files and loss curve go to `<run>/<stage>/tensorboard/` and
 *   `<run>/<stage>/loss-curve.svg`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ArtifactNotFoundError, type ArtifactStore } from '../../lib/artifacts';
import type { ResourcePolicy } from '../../lib/security/resources';
import { sha256 } from '../../lib/hash';
import {
  type FineTuneResult,
  type Training,
  type TrainerDpoConfig,
  type TrainerTrainConfig,
  TRAINING_PROGRESS_SIGNAL,
  type TrainingProgress,
} from '../../lib/schemas/train';
import { downloadDir, latestCheckpoint, snapshotDir, uploadDir } from './s3-dirs';
import type { TrainerSettings } from './settings';
import { TrainerError, type TrainerEvent } from './trainer-process';
import { assertAllowedPath, downloadModelPrefix, type GpuHooks, runPrefixOf, runTrainerCommand, throwAsActivityFailure } from './shared';
import type { Dpo, DpoMetrics } from '../../lib/schemas/dpo';
import { pipelineMetrics } from '../../lib/pipeline-metrics';

export interface FineTuneInput {
  /** One of several training variants of a run: its checkpoints, weights and tracking go under variants/<name>/. */
  variant?: string;
  baseModel: string;
  trainUri: string;
  validationUri?: string;
  training: Training;
  progressIntervalSeconds: number;
  /** The preference-tuning stage instead of SFT: DPO on this SFT adapter (s3:// prefix). */
  dpo?: { sftAdapterUri: string; settings: Dpo };
}

export type PreferenceTuneResult = FineTuneResult & { dpo: DpoMetrics };

export interface FineTuneHeartbeat {
  step: number;
  loss?: number;
  /** S3 key prefix of the last complete checkpoint. */
  checkpointKey?: string;
  attempt: number;
}

/** The trainer's JSON config (lib/schemas/train.ts trainerTrainConfigSchema) from the workflow's training settings. */
export function trainerConfig(
  t: Training,
  files: { baseModel: string; outputDir: string; trainFile: string; evalFile?: string; resumeFrom?: string },
): TrainerTrainConfig {
  return {
    base_model: files.baseModel,
    output_dir: files.outputDir,
    train_file: files.trainFile,
    ...(files.evalFile && { eval_file: files.evalFile }),
    max_seq_length: t.maxSeqLength,
    lora: { r: t.lora.r, alpha: t.lora.alpha, dropout: t.lora.dropout, target_modules: t.lora.targetModules },
    quantization: t.quantization,
    epochs: t.epochs,
    max_steps: t.maxSteps,
    learning_rate: t.learningRate,
    lr_scheduler: t.lrScheduler,
    warmup_ratio: t.warmupRatio,
    per_device_batch_size: t.perDeviceBatchSize,
    gradient_accumulation_steps: t.gradientAccumulationSteps,
    packing: t.packing,
    assistant_only_loss: t.assistantOnlyLoss,
    gradient_checkpointing: t.gradientCheckpointing,
    bf16: t.bf16,
    seed: t.seed,
    save_steps: t.saveSteps,
    logging_steps: t.loggingSteps,
    save_total_limit: t.saveTotalLimit,
    ...(files.resumeFrom && { resume_from_checkpoint: files.resumeFrom }),
    backend: t.backend,
    merge: t.merge,
    device: t.device,
    ...(t.chatTemplate && { chat_template: t.chatTemplate }),
  };
}

/** The trainer's DPO config (trainerDpoConfigSchema) from the workflow's settings; the SFT run's settings fill the rest. */
export function dpoTrainerConfig(
  t: Training,
  d: Dpo,
  files: { baseModel: string; adapterDir: string; outputDir: string; pairsFile: string; resumeFrom?: string },
): TrainerDpoConfig {
  return {
    base_model: files.baseModel,
    adapter_dir: files.adapterDir,
    output_dir: files.outputDir,
    pairs_file: files.pairsFile,
    rejected: d.pairs === 'generated' ? 'generated' : 'records',
    generate_max_new_tokens: d.generateMaxNewTokens,
    max_seq_length: t.maxSeqLength,
    beta: d.beta,
    loss_type: d.lossType,
    quantization: t.quantization,
    epochs: d.epochs,
    max_steps: d.maxSteps,
    learning_rate: d.learningRate,
    lr_scheduler: d.lrScheduler,
    warmup_ratio: d.warmupRatio,
    per_device_batch_size: d.perDeviceBatchSize,
    gradient_accumulation_steps: d.gradientAccumulationSteps,
    gradient_checkpointing: t.gradientCheckpointing,
    bf16: t.bf16,
    seed: t.seed,
    save_steps: d.saveSteps,
    logging_steps: d.loggingSteps,
    save_total_limit: t.saveTotalLimit,
    ...(files.resumeFrom && { resume_from_checkpoint: files.resumeFrom }),
    merge: d.merge,
    device: t.device,
    ...(t.chatTemplate && { chat_template: t.chatTemplate }),
  };
}

/** Routine progress signals per attempt (about 3 history events each). */
export const MAX_PROGRESS_SIGNALS = 2000;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export async function fineTune(
  input: FineTuneInput,
  deps: { artifacts: ArtifactStore; settings: TrainerSettings; hooks: GpuHooks; resources: ResourcePolicy },
): Promise<FineTuneResult> {
  const { artifacts, settings, hooks, resources } = deps;
  const ctx = Context.current();
  const info = ctx.info;
  const attempt = info.attempt;
  // Variants of one run must not share checkpoints (a retry would resume another variant's) or weights.
  const runPrefix = `${runPrefixOf(info)}${input.variant ? `/variants/${input.variant.replace(/[^A-Za-z0-9._=-]/g, '_')}` : ''}`;
  const stage = input.dpo ? 'dpo' : 'finetune';
  const ckptPrefix = `${runPrefix}/${stage}/checkpoints`;
  const work = path.join(settings.workDir, sha256(runPrefix).slice(0, 16), stage);
  // Each attempt starts from a clean folder: S3 holds the state worth keeping.
  fs.rmSync(work, { recursive: true, force: true });
  const dirs = { data: path.join(work, 'data'), out: path.join(work, 'out'), resume: path.join(work, 'resume'), staging: path.join(work, 'staging') };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });

  try {
    const progress: TrainingProgress = { attempt, step: 0, maxSteps: 0 };
    let details: FineTuneHeartbeat = { step: 0, attempt };
    const beat = () => ctx.heartbeat(details);
    beat();

    // Resume point: the previous attempt's heartbeat, else the newest complete checkpoint of this run in S3.
    const previous = info.heartbeatDetails as FineTuneHeartbeat | undefined;
    const resumeKey = previous?.checkpointKey ?? (attempt > 1 || previous ? (await latestCheckpoint(artifacts, `${ckptPrefix}/`))?.key : undefined);
    let resumeFrom: string | undefined;
    if (resumeKey) {
      resumeFrom = path.join(dirs.resume, path.basename(resumeKey));
      await downloadDir(artifacts, resumeKey, resumeFrom);
      details = { ...details, checkpointKey: resumeKey };
      progress.lastCheckpointUri = artifacts.uri(`${resumeKey}/`);
    }

    const trainFile = path.join(dirs.data, 'train.jsonl');
    const pairsUri = input.dpo?.settings.pairs === 'records' ? input.dpo.settings.pairsUri : undefined;
    fs.writeFileSync(trainFile, pairsUri && !pairsUri.startsWith('s3://') ? readWorkerFile(pairsUri, resources) : await artifacts.getBytes(pairsUri ?? input.trainUri));
    let evalFile: string | undefined;
    // The validation split holds SFT conversations, not preference pairs: DPO reports its training loss only.
    if (input.validationUri && !input.dpo) {
      const bytes = await artifacts.getBytes(input.validationUri);
      if (bytes.toString('utf8').trim()) {
        evalFile = path.join(dirs.data, 'validation.jsonl');
        fs.writeFileSync(evalFile, bytes);
      }
    }
    // Generated preference pairs cost a generation over the whole train split: an earlier attempt's are put back where
    // the trainer looks for them (it reuses them only if they were generated from the same inputs).
    const pairsPrefix = `${runPrefix}/${stage}`;
    if (input.dpo?.settings.pairs === 'generated') {
      for (const name of Object.keys(GENERATED_PAIRS_FILES)) {
        const kept = await artifacts.getBytes(`${pairsPrefix}/${name}`).catch((err: unknown) => {
          if (err instanceof ArtifactNotFoundError) return undefined; // the first attempt, or none got that far
          throw err;
        });
        if (kept) fs.writeFileSync(path.join(dirs.out, name), kept);
      }
    }
    const baseModel = await downloadModelPrefix(artifacts, input.baseModel, settings.modelCacheDir, resources);
    let config: TrainerTrainConfig | TrainerDpoConfig;
    if (input.dpo) {
      const adapterDir = path.join(dirs.data, 'sft-adapter');
      await downloadDir(artifacts, input.dpo.sftAdapterUri, adapterDir);
      config = dpoTrainerConfig(input.training, input.dpo.settings, { baseModel, adapterDir, outputDir: dirs.out, pairsFile: trainFile, resumeFrom });
    } else {
      config = trainerConfig(input.training, { baseModel, outputDir: dirs.out, trainFile, evalFile, resumeFrom });
    }

    // Progress to the workflow: throttled, in order, never failing the training.
    const wf = info.workflowExecution;
    let lastSignal = 0;
    let sent = 0;
    let signals: Promise<void> = Promise.resolve();
    const signalWorkflow = (force: boolean) => {
      if (!wf) return;
      const now = Date.now();
      if (!force && now - lastSignal < input.progressIntervalSeconds * 1000) return;
      // Each signal adds events to the workflow history (limit 51,200): a very long run stops sending routine
      // progress after MAX_PROGRESS_SIGNALS and keeps only checkpoints and the start/end.
      if (!force && sent >= MAX_PROGRESS_SIGNALS) return;
      sent += 1;
      lastSignal = now;
      const snapshot = { ...progress };
      signals = signals.then(() =>
        ctx.client.workflow
          .getHandle(wf.workflowId, wf.runId)
          .signal(TRAINING_PROGRESS_SIGNAL, snapshot)
          .catch((err: unknown) => ctx.log.warn('progress signal failed', { error: String(err) })),
      );
    };

    // Checkpoints upload one after another while training continues.
    let uploads: Promise<void> = Promise.resolve();
    let checkpoints = 0;
    const onCheckpoint = (ev: TrainerEvent) => {
      const step = num(ev.step) ?? 0;
      const src = String(ev.path);
      const staged = path.join(dirs.staging, `checkpoint-${step}`);
      snapshotDir(src, staged);
      uploads = uploads.then(async () => {
        const key = `${ckptPrefix}/checkpoint-${step}`;
        await uploadDir(artifacts, staged, key);
        fs.rmSync(staged, { recursive: true, force: true });
        checkpoints += 1;
        details = { ...details, checkpointKey: key };
        progress.lastCheckpointUri = artifacts.uri(`${key}/`);
        beat();
        signalWorkflow(true);
        await hooks.onCheckpointUploaded?.({ step, key, attempt });
      });
      // Surface an upload failure at the next event rather than leaving it unobserved.
      uploads.catch(() => undefined);
    };

    const timer = setInterval(beat, 1000);
    let done: TrainerEvent;
    try {
      ({ done } = await runTrainerCommand({
        command: input.dpo ? 'dpo' : 'train',
        configFile: 'train-config.json',
        config,
        work,
        ctx,
        settings,
        hooks,
        onEvent: async (ev) => {
          switch (ev.event) {
            case 'start':
              progress.maxSteps = num(ev.max_steps) ?? 0;
              progress.resumedFromStep = num(ev.resumed_from_step) ?? null;
              progress.step = progress.resumedFromStep ?? 0;
              progress.device = String(ev.device ?? '');
              progress.backend = String(ev.backend ?? '');
              signalWorkflow(true);
              break;
            case 'progress':
              Object.assign(progress, {
                step: num(ev.step) ?? progress.step,
                maxSteps: num(ev.max_steps) ?? progress.maxSteps,
                epoch: num(ev.epoch),
                loss: num(ev.loss),
                learningRate: num(ev.learning_rate),
                tokensPerSecond: num(ev.tokens_per_second),
                etaSeconds: num(ev.eta_seconds),
              });
              pipelineMetrics.trainingProgress(input.baseModel, progress);
              details = { ...details, step: progress.step, loss: progress.loss };
              beat();
              signalWorkflow(false);
              break;
            case 'eval':
              progress.evalLoss = num(ev.eval_loss);
              break;
            case 'checkpoint':
              onCheckpoint(ev);
              break;
            case 'pairs': {
              // Kept before training starts, so that a retry does not generate them again.
              const files = [String(ev.path), String(ev.summary)].map((f) => ({ name: path.basename(f), bytes: fs.readFileSync(f) }));
              uploads = uploads.then(async () => {
                for (const { name, bytes } of files) await artifacts.putBytes(`${pairsPrefix}/${name}`, bytes, GENERATED_PAIRS_FILES[name] ?? 'application/octet-stream');
              });
              uploads.catch(() => undefined);
              break;
            }
          }
        },
      }));
    } catch (err) {
      // Let the checkpoint uploads and progress signals in flight settle: nothing of a failed or cancelled attempt
      // keeps running in the background (a signal still retrying when the worker closes its connection throws from
      // a timer, outside any promise).
      await uploads.catch(() => undefined);
      await signals;
      throw err;
    } finally {
      clearInterval(timer);
    }
    await uploads;

    const adapterDir = String(done.adapter_dir);
    const modelPrefix = `${runPrefix}/model/${input.dpo ? 'dpo-' : ''}`;
    const adapter = await uploadDir(artifacts, adapterDir, `${modelPrefix}adapter`);
    let mergedUri: string | undefined;
    if (typeof done.merged_dir === 'string' && done.merged_dir) mergedUri = (await uploadDir(artifacts, done.merged_dir, `${modelPrefix}merged`)).uri;
    // Tracking: the event files (`tensorboard --logdir`, docs/training.md) and the loss curve, with the run's artifacts.
    const tracking = await uploadTracking(artifacts, done, `${runPrefix}/${stage}`);
    const m = (done.metrics ?? {}) as Record<string, unknown>;
    progress.step = num(m.global_step) ?? progress.step;
    signalWorkflow(true);
    await signals;
    fs.rmSync(work, { recursive: true, force: true });
    return {
      adapterUri: adapter.uri,
      mergedUri,
      ...tracking,
      ...(input.dpo && {
        dpo: {
          pairs: num(m.pairs) ?? 0,
          pairsDropped: num(m.pairs_dropped) ?? 0,
          rewardAccuracy: num(m.reward_accuracy) ?? null,
          rewardMargin: num(m.reward_margin) ?? null,
        },
      }),
      // A loss the trainer did not report is missing, not 0 (0 would read as a perfect fit).
      metrics: { trainLoss: num(m.train_loss) ?? null, runtimeSeconds: num(m.runtime_seconds) ?? 0, trainTokens: num(m.train_tokens) ?? 0, globalStep: num(m.global_step) ?? 0 },
      resumedFromStep: progress.resumedFromStep ?? null,
      checkpoints,
      attempt,
    };
  } catch (err) {
    return throwAsActivityFailure(err, ctx);
  }
}

/** dpo.pairsUri given as a path: a file on this (GPU) worker, read only where it allows input to read (TWINFLOW_ALLOW_PATHS). */
function readWorkerFile(file: string, resources: ResourcePolicy): Buffer {
  assertAllowedPath(resources, file, 'dpo.pairsUri');
  if (!fs.existsSync(file)) throw new TrainerError(`dpo.pairsUri: file not found on the GPU worker: ${file}`, 'config', null, '');
  return fs.readFileSync(file);
}

/** The trainer's generated-pairs files (trainer/src/twinflow_trainer/dpo.py generated_pairs), with their content types. */
const GENERATED_PAIRS_FILES: Record<string, string> = { 'pairs.jsonl': 'application/x-ndjson', 'pairs-summary.json': 'application/json' };

async function uploadTracking(artifacts: ArtifactStore, done: TrainerEvent, prefix: string): Promise<{ tensorboardUri?: string; lossCurveUri?: string; pairsUri?: string }> {
  const out: { tensorboardUri?: string; lossCurveUri?: string; pairsUri?: string } = {};
  if (typeof done.tensorboard_dir === 'string' && fs.existsSync(done.tensorboard_dir)) out.tensorboardUri = (await uploadDir(artifacts, done.tensorboard_dir, `${prefix}/tensorboard`)).uri;
  if (typeof done.loss_curve === 'string' && fs.existsSync(done.loss_curve)) {
    out.lossCurveUri = (await artifacts.putBytes(`${prefix}/loss-curve.svg`, fs.readFileSync(done.loss_curve), 'image/svg+xml')).uri;
  }
  // Generated pairs are in S3 already: uploaded when the trainer announced them, or put back from there on a retry.
  if (typeof done.pairs_file === 'string') out.pairsUri = artifacts.uri(`${prefix}/${path.basename(done.pairs_file)}`);
  return out;
}
