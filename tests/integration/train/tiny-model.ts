/**
 * The tiny Llama-architecture models + BPE tokenizers that trainer/ builds from scratch (cli/tiny-model.ts), made
 * once per machine under .twinflow/test-models/ through the trainer's Python, and reused by later runs:
 *
 * - `tinyModelDir()`: the generic one (a 512-token BPE from eight sentences, 64 wide): every code path in seconds;
 * - `reviewsTinyModelDir()`: the one examples/reviews/train-tiny-cpu.json names, built from that example's recipe
 *   (its own words as tokens, 128 wide, 4 layers), which learns the example's task on CPU in a minute or two.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ensureTinyModelSync, TINY_REVIEWS_MODEL } from '../../../cli/tiny-model';
import { PROJECT_ROOT } from '../../../lib/config';

export const TRAINER_PYTHON = path.join(PROJECT_ROOT, '.twinflow', 'venv', 'bin', 'python');

function build(dir: string): string {
  if (!fs.existsSync(path.join(dir, '.complete')) && !fs.existsSync(TRAINER_PYTHON)) throw new Error(`the trainer's Python is missing (${TRAINER_PYTHON}): run scripts/setup-python.sh`);
  return ensureTinyModelSync(dir, TRAINER_PYTHON);
}

export const tinyModelDir = () => build(path.join(PROJECT_ROOT, '.twinflow', 'test-models', 'tiny-llama'));

export const reviewsTinyModelDir = () => build(TINY_REVIEWS_MODEL);
