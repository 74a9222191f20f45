/**
 * The tiny Llama-architecture model + BPE tokenizer that trainer/ builds from scratch (twinflow_trainer.tiny), made
 * once per machine under .twinflow/test-models/ through the trainer's Python, and reused by later runs.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../../lib/config';

export const TRAINER_PYTHON = path.join(PROJECT_ROOT, '.twinflow', 'venv', 'bin', 'python');

export function tinyModelDir(): string {
  const dir = path.join(PROJECT_ROOT, '.twinflow', 'test-models', 'tiny-llama');
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  if (!fs.existsSync(TRAINER_PYTHON)) throw new Error(`the trainer's Python is missing (${TRAINER_PYTHON}): run scripts/setup-python.sh`);
  const tmp = `${dir}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  execFileSync(TRAINER_PYTHON, ['-m', 'twinflow_trainer.tiny', tmp], {
    env: { ...process.env, PYTHONPATH: path.join(PROJECT_ROOT, 'trainer', 'src') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  fs.writeFileSync(path.join(tmp, '.complete'), '');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  return dir;
}
