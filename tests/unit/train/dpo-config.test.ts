/**
 * The DPO stage's input (lib/schemas/dpo.ts) and the trainer config the GPU activity writes from it
 * (dpoTrainerConfig), checked by the trainer itself (`validate-config --kind dpo`, the JSON Schema generated from lib/schemas/train.ts, unknown keys refused).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { dpoTrainerConfig } from '../../../activities/gpu/fine-tune';
import { PROJECT_ROOT } from '../../../lib/config';
import { dpoSchema } from '../../../lib/schemas/dpo';
import { trainInputSchema, trainingSchema } from '../../../lib/schemas/train';

const run = promisify(execFile);
const PYTHON = path.join(PROJECT_ROOT, '.twinflow', 'venv', 'bin', 'python');

describe('dpo settings', () => {
  it('defaults to generated pairs; record pairs need pairsUri; the train input accepts a dpo block', () => {
    expect(dpoSchema.parse({})).toMatchObject({ pairs: 'generated', beta: 0.1, lossType: 'sigmoid', learningRate: 5e-6 });
    const bad = dpoSchema.safeParse({ pairs: 'records' });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]).toMatchObject({ path: ['pairsUri'] });
    expect(dpoSchema.safeParse({ beta: 0 }).success).toBe(false);
    const input = trainInputSchema.parse({ name: 'x', dataset: { manifestUri: 's3://b/m.json' }, model: { baseModel: 'm', name: 'twin' }, dpo: { maxSteps: 4 } });
    expect(input.dpo).toMatchObject({ maxSteps: 4, pairs: 'generated' });
    expect(trainInputSchema.parse({ name: 'x', dataset: { manifestUri: 's3://b/m.json' }, model: { baseModel: 'm', name: 'twin' } }).dpo).toBeUndefined();
  });

  it('the trainer accepts the config the activity writes (every key known, every value in range)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-dpo-config-'));
    const cfg = dpoTrainerConfig(trainingSchema.parse({ maxSeqLength: 2048, chatTemplate: '{{x}}' }), dpoSchema.parse({ pairs: 'records', pairsUri: 's3://b/p.jsonl', beta: 0.2 }), {
      baseModel: '/m',
      adapterDir: '/a',
      outputDir: '/o',
      pairsFile: '/p.jsonl',
      resumeFrom: '/ck',
    });
    expect(cfg).toMatchObject({ rejected: 'records', beta: 0.2, max_seq_length: 2048, adapter_dir: '/a', resume_from_checkpoint: '/ck', chat_template: '{{x}}' });
    const file = path.join(dir, 'dpo.json');
    fs.writeFileSync(file, JSON.stringify(cfg));
    const env = { ...process.env, PYTHONPATH: path.join(PROJECT_ROOT, 'trainer', 'src') };
    await expect(run(PYTHON, ['-m', 'twinflow_trainer', 'validate-config', '--kind', 'dpo', '--config', file], { env })).resolves.toBeDefined();
    fs.writeFileSync(file, JSON.stringify({ ...cfg, bogus: 1 }));
    const err = await run(PYTHON, ['-m', 'twinflow_trainer', 'validate-config', '--kind', 'dpo', '--config', file], { env }).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toMatch(/bogus: unknown key/);
  });
});
