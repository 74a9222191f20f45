/**
 * Checks a model card with huggingface_hub, as the Hub will read it (`python -m twinflow_trainer validate-card`, from
 * the trainer's venv): the YAML parses, `base_model` is a Hub id (or absent), the model-index holds numeric metrics.
 * A card that fails is a bug of the card writer, so publishing stops (non-retryable) with the check's message.
 * Where the trainer's Python is not installed (a CPU-only worker), the check is skipped and the result says so.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { ApplicationFailure } from '@temporalio/activity';
import type { Config } from '../../lib/config';
import { loadTrainerSettings } from '../gpu/settings';

const run = promisify(execFile);

export async function checkModelCard(config: Config, cardPath: string): Promise<string> {
  const settings = loadTrainerSettings(config);
  if (!fs.existsSync(settings.python)) return `skipped: no trainer Python at ${settings.python} (TWINFLOW_TRAINER_PYTHON)`;
  const env = { ...process.env, PYTHONPATH: settings.trainerSrc, HF_HUB_OFFLINE: '1' };
  try {
    const { stdout } = await run(settings.python, ['-m', 'twinflow_trainer', 'validate-card', '--card', cardPath], { env, timeout: 60_000 });
    const card = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; results?: unknown[] }).find((e) => e.event === 'card');
    return `passed (huggingface_hub): ${card?.results?.length ?? 0} metrics in model-index`;
  } catch (err) {
    const e = err as { code?: number; stdout?: string; message: string };
    const line = (e.stdout ?? '').split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l) as { event: string; message?: string }; } catch { return undefined; } }).find((x) => x?.event === 'error');
    if (e.code === 2 && line?.message) throw ApplicationFailure.nonRetryable(`model card: ${line.message}`, 'ModelCardInvalid');
    throw new Error(`model card check failed to run: ${e.message}`, { cause: err });
  }
}
