/** Pieces shared by the GPU activities: run prefixes, model download, running the trainer, failure mapping, test hooks. */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure, type Context, type Info } from '@temporalio/activity';
import type { ArtifactStore } from '../../lib/artifacts';
import { sha256 } from '../../lib/hash';
import { checkLocalPath, isLocalModelPath, type ResourcePolicy } from '../../lib/security/resources';
import type { TrainerSettings } from './settings';
import { runTrainer, TrainerError, type RunTrainerOptions, type TrainerEvent } from './trainer-process';

/** Observers of the GPU activities (metrics, logs, and tests that need to act at a precise moment). */
export interface GpuHooks {
  onTrainerSpawn?: (e: { pid: number; attempt: number; command: 'train' | 'dpo' | 'generate' }) => void;
  /** Every trainer event, as it is read (before the activity handles it). */
  onTrainerEvent?: (e: { event: Record<string, unknown>; attempt: number; command: 'train' | 'dpo' | 'generate' }) => void;
  onCheckpointUploaded?: (e: { step: number; key: string; attempt: number }) => void | Promise<void>;
}

/**
 * Writes a trainer config into the activity's work folder and runs the trainer command on it there: the worker's
 * Python and trainer sources, the activity's cancellation, its log in `<work>/trainer.log`, and the hooks told of
 * the process and of every event before `onEvent` handles it.
 */
export function runTrainerCommand(o: {
  command: RunTrainerOptions['command'];
  /** The config file's name in `work` and its content (one of lib/schemas/train.ts's trainer configs). */
  configFile: string;
  config: object;
  work: string;
  ctx: Context;
  settings: TrainerSettings;
  hooks: GpuHooks;
  onEvent: (event: TrainerEvent) => void | Promise<void>;
}): Promise<{ done: TrainerEvent; exitCode: number }> {
  const { command, ctx, settings, hooks } = o;
  const attempt = ctx.info.attempt;
  const configPath = path.join(o.work, o.configFile);
  fs.writeFileSync(configPath, JSON.stringify(o.config, null, 2));
  return runTrainer({
    python: settings.python,
    command,
    configPath,
    cwd: o.work,
    pythonPath: settings.trainerSrc,
    logFile: path.join(o.work, 'trainer.log'),
    signal: ctx.cancellationSignal,
    killGraceMs: settings.killGraceMs,
    onSpawn: (pid) => hooks.onTrainerSpawn?.({ pid, attempt, command }),
    onEvent: (event) => {
      hooks.onTrainerEvent?.({ event, attempt, command });
      return o.onEvent(event);
    },
  });
}

/** runs/<workflowId>/<runId>: every artifact of one workflow run lives under it (a retry writes the same keys). */
export function runPrefixOf(info: Info): string {
  const wf = info.workflowExecution;
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._=-]/g, '_');
  return wf ? `runs/${safe(wf.workflowId)}/${safe(wf.runId)}` : `runs/standalone/${safe(info.activityId)}`;
}

/**
 * A model or adapter that input names by a folder on this worker is read only under TWINFLOW_ALLOW_PATHS, like every
 * other local path from input (lib/security/resources.ts); `what` names the input field in the refusal.
 */
export function checkModelPath(resources: ResourcePolicy, ref: string, what: string): void {
  if (isLocalModelPath(ref)) assertAllowedPath(resources, ref, what);
}

/** A local path from input that this worker reads: refused without retries outside TWINFLOW_ALLOW_PATHS. */
export function assertAllowedPath(resources: ResourcePolicy, p: string, what: string): void {
  const verdict = checkLocalPath(resources, p, what);
  if (!verdict.allowed) throw ApplicationFailure.nonRetryable(verdict.reason, 'NotAllowed');
}

/**
 * A base model given as an s3:// prefix is copied once into the model cache (and reused by later runs); a Hub id or
 * a local folder (checked against TWINFLOW_ALLOW_PATHS) is passed to the trainer as it is.
 */
export async function downloadModelPrefix(artifacts: ArtifactStore, model: string, cacheDir: string, resources: ResourcePolicy): Promise<string> {
  checkModelPath(resources, model, 'model.baseModel');
  if (!model.startsWith('s3://')) return model;
  const dir = path.join(cacheDir, sha256(model).slice(0, 16));
  const marker = path.join(dir, '.twinflow-complete');
  if (fs.existsSync(marker)) return dir;
  const prefix = artifacts.keyOf(model).replace(/\/?$/, '/');
  fs.rmSync(dir, { recursive: true, force: true });
  let n = 0;
  for await (const o of artifacts.list(prefix)) {
    const rel = o.key.slice(prefix.length);
    if (!rel || rel.endsWith('/')) continue;
    const target = path.join(dir, ...rel.split('/'));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const out = await artifacts.s3.send(new GetObjectCommand({ Bucket: artifacts.bucket, Key: o.key }));
    await pipeline(out.Body as Readable, fs.createWriteStream(target));
    n += 1;
  }
  if (n === 0) throw ApplicationFailure.nonRetryable(`model.baseModel: nothing under ${model}`, 'ModelNotFound');
  fs.writeFileSync(marker, model);
  return dir;
}

/**
 * Maps a failure to what Temporal should do with it: a bad config is not retried; a cancellation is reported as the
 * cancellation; anything else (OOM, a crashed process, S3 trouble) is retried from the last checkpoint.
 */
export function throwAsActivityFailure(err: unknown, ctx: Context): never {
  if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? err;
  if (err instanceof TrainerError) {
    if (err.kind === 'config') throw ApplicationFailure.nonRetryable(err.message, 'TrainerConfigError');
    throw ApplicationFailure.retryable(err.message, 'TrainerRuntimeError');
  }
  throw err;
}
