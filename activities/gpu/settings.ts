/**
 * GPU worker settings for the trainer subprocess, from the worker's environment (next to lib/config's settings):
 *
 *   TWINFLOW_TRAINER_PYTHON         Python with trainer/ installed (default <TWINFLOW_HOME>/venv/bin/python)
 *   TWINFLOW_TRAINER_WORK_DIR       scratch space for data, checkpoints and weights (default <TWINFLOW_HOME>/gpu-work)
 *   TWINFLOW_TRAINER_KILL_GRACE_MS  how long SIGTERM may take before SIGKILL (default 15000)
 *   TWINFLOW_MODEL_CACHE_DIR        where s3:// base models are copied once (default <TWINFLOW_HOME>/cache/models)
 */
import path from 'node:path';
import { z } from 'zod';
import { type Config, ConfigError, PROJECT_ROOT } from '../../lib/config';

export interface TrainerSettings {
  python: string;
  workDir: string;
  killGraceMs: number;
  modelCacheDir: string;
  /** trainer/src, put on PYTHONPATH so an uninstalled checkout works too. */
  trainerSrc: string;
}

const schema = z.object({
  TWINFLOW_TRAINER_PYTHON: z.string().min(1).optional(),
  TWINFLOW_TRAINER_WORK_DIR: z.string().min(1).optional(),
  TWINFLOW_TRAINER_KILL_GRACE_MS: z.coerce.number({ error: 'expected a number of milliseconds' }).int().min(0).optional(),
  TWINFLOW_MODEL_CACHE_DIR: z.string().min(1).optional(),
});

export function loadTrainerSettings(config: Config, env: NodeJS.ProcessEnv = process.env): TrainerSettings {
  const present = Object.fromEntries(Object.entries(env).filter(([k, v]) => k in schema.shape && v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new ConfigError(`Invalid configuration: ${String(i.path[0])}: ${i.message}, got ${JSON.stringify(env[String(i.path[0])])}`);
  }
  const e = parsed.data;
  return {
    python: path.resolve(e.TWINFLOW_TRAINER_PYTHON ?? path.join(config.home, 'venv', 'bin', 'python')),
    workDir: path.resolve(e.TWINFLOW_TRAINER_WORK_DIR ?? path.join(config.home, 'gpu-work')),
    killGraceMs: e.TWINFLOW_TRAINER_KILL_GRACE_MS ?? 15_000,
    modelCacheDir: path.resolve(e.TWINFLOW_MODEL_CACHE_DIR ?? path.join(config.home, 'cache', 'models')),
    trainerSrc: path.join(PROJECT_ROOT, 'trainer', 'src'),
  };
}
