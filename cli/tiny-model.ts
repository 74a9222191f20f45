/**
 * The tiny models the examples and tests train on CPU, built from scratch by the trainer (twinflow_trainer.tiny: no
 * download), once per machine. The demo builds the one its training example names; the tests build the same folders
 * the same way (tests/integration/train/tiny-model.ts).
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../lib/config';
import { sha256 } from '../lib/hash';

/** The folder examples/reviews/train-tiny-cpu.json names as its base model, and the recipe it is built from. */
export const TINY_REVIEWS_MODEL = path.join(PROJECT_ROOT, '.twinflow', 'test-models', 'tiny-llama-reviews');
export const TINY_REVIEWS_RECIPE = path.join(PROJECT_ROOT, 'examples', 'reviews', 'tiny-model.json');

/** The recipe a tiny-model folder is built from: the reviews example's for its folder, else none (the generic model). */
export function recipeFor(dir: string): string | undefined {
  return path.resolve(dir) === TINY_REVIEWS_MODEL ? TINY_REVIEWS_RECIPE : undefined;
}

/**
 * What a built folder's `.complete` marker holds: empty for the generic model, else the hash of the recipe and its
 * corpus, so that a folder built from an older recipe is rebuilt rather than trained on.
 */
function stampOf(recipe: string | undefined): string {
  if (!recipe) return '';
  const text = fs.readFileSync(recipe, 'utf8');
  const corpus = (JSON.parse(text) as { corpus?: string }).corpus;
  return sha256(text + (corpus ? fs.readFileSync(path.resolve(path.dirname(recipe), corpus), 'utf8') : ''));
}

function isBuilt(dir: string, stamp: string): boolean {
  const marker = path.join(dir, '.complete');
  return fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === stamp;
}

function buildCommand(python: string, tmp: string, recipe: string | undefined) {
  const args = ['-m', 'twinflow_trainer.tiny', tmp, ...(recipe ? ['--recipe', recipe] : [])];
  return { python, args, env: { ...process.env, PYTHONPATH: path.join(PROJECT_ROOT, 'trainer', 'src') } };
}

/** Moves a finished build into place (a half-built folder from a killed run never carries the marker). */
function install(tmp: string, dir: string, stamp: string): void {
  fs.writeFileSync(path.join(tmp, '.complete'), stamp);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
}

/** Builds `dir` unless it is built from its current recipe. */
async function ensureTinyModel(dir: string, python: string, log: (l: string) => void): Promise<void> {
  const recipe = recipeFor(dir);
  const stamp = stampOf(recipe);
  if (isBuilt(dir, stamp)) return;
  log(`building the tiny model once: ${path.relative(PROJECT_ROOT, dir)}${recipe ? ` (${path.relative(PROJECT_ROOT, recipe)})` : ''}`);
  const tmp = `${dir}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const c = buildCommand(python, tmp, recipe);
  await promisify(execFile)(c.python, c.args, { env: c.env });
  install(tmp, dir, stamp);
}

/**
 * Builds the example's tiny model when a training config names its folder, and does nothing for any other base model:
 * a folder of the user's own (a local checkpoint) is never replaced by a tiny one. The demo and `train --with-workers`
 * both call this.
 */
export async function ensureExampleModel(baseModel: string, python: string, log: (l: string) => void): Promise<void> {
  if (recipeFor(baseModel)) await ensureTinyModel(baseModel, python, log);
}

/** As ensureTinyModel, blocking (the tests call it where they need the folder's path). */
export function ensureTinyModelSync(dir: string, python: string): string {
  const recipe = recipeFor(dir);
  const stamp = stampOf(recipe);
  if (isBuilt(dir, stamp)) return dir;
  const tmp = `${dir}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const c = buildCommand(python, tmp, recipe);
  execFileSync(c.python, c.args, { env: c.env, stdio: ['ignore', 'ignore', 'pipe'] });
  install(tmp, dir, stamp);
  return dir;
}
