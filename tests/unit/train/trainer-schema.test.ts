/**
 * The trainer's config schema has one definition (lib/schemas/train.ts, TRAINER_CONFIG_SCHEMAS); the Python trainer
 * validates with its JSON Schema, committed in the trainer package by scripts/gen-trainer-schema.ts. This fails when
 * the committed file is not what the zod schemas generate (the Python side checks its dataclasses against the same
 * file: trainer/tests/test_config_schema.py), and checks that the configs the GPU activities write pass the schema.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dpoTrainerConfig, trainerConfig } from '../../../activities/gpu/fine-tune';
import { generateTrainerConfig } from '../../../activities/gpu/generate';
import { dpoSchema } from '../../../lib/schemas/dpo';
import { generationSchema, TRAINER_CONFIG_SCHEMAS, trainerTrainConfigSchema, trainingSchema } from '../../../lib/schemas/train';
import { renderTrainerSchema, TRAINER_SCHEMA_PATH, trainerJsonSchema } from '../../../scripts/gen-trainer-schema';

describe('trainer config schema', () => {
  it('the committed config.schema.json is what the zod schemas generate (npx tsx scripts/gen-trainer-schema.ts)', () => {
    expect(fs.readFileSync(TRAINER_SCHEMA_PATH, 'utf8')).toBe(renderTrainerSchema());
  });

  it('holds every kind, refuses unknown keys, and makes defaulted fields optional with their default', () => {
    const doc = JSON.parse(renderTrainerSchema()) as Record<string, { required: string[]; additionalProperties: boolean; properties: Record<string, { default?: unknown }> }>;
    expect(Object.keys(doc).filter((k) => k !== '$comment')).toEqual(Object.keys(TRAINER_CONFIG_SCHEMAS));
    expect(doc.train!.required).toEqual(['base_model', 'output_dir', 'train_file']);
    expect(doc.dpo!.required).toEqual(['base_model', 'adapter_dir', 'output_dir', 'pairs_file']);
    expect(doc.generate!.required).toEqual(['base_model', 'input_file', 'output_file']);
    expect(doc.train!.additionalProperties).toBe(false);
    expect(doc.train!.properties.max_steps).toMatchObject({ default: -1, type: 'integer', minimum: -1, not: { const: 0 } });
    expect(doc.train!.properties.lora).toMatchObject({ default: {}, additionalProperties: false });
    // Python integers are unbounded: zod's safe-integer bounds are not carried over.
    expect(JSON.stringify(trainerJsonSchema(trainerTrainConfigSchema))).not.toContain(String(Number.MAX_SAFE_INTEGER));
  });

  it('the zod schema refuses what the trainer refuses', () => {
    const base = { base_model: 'm', output_dir: 'o', train_file: 't' };
    expect(trainerTrainConfigSchema.safeParse(base).success).toBe(true);
    for (const bad of [{ max_steps: 0 }, { seed: 1.5 }, { lora: { target_modules: [] } }, { lora: { rank: 8 } }, { bf16: 'yes' }, { save_total_limit: 0 }, { unknown_knob: true }]) {
      expect(trainerTrainConfigSchema.safeParse({ ...base, ...bad }).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('the configs the GPU activities write pass it', () => {
    const t = trainingSchema.parse({ chatTemplate: '{{x}}' });
    const files = { baseModel: '/m', outputDir: '/o', trainFile: '/t.jsonl', evalFile: '/v.jsonl', resumeFrom: '/ck' };
    expect(TRAINER_CONFIG_SCHEMAS.train.parse(trainerConfig(t, files))).toMatchObject({ eval_file: '/v.jsonl', resume_from_checkpoint: '/ck', chat_template: '{{x}}' });
    const d = dpoSchema.parse({});
    expect(TRAINER_CONFIG_SCHEMAS.dpo.parse(dpoTrainerConfig(t, d, { baseModel: '/m', adapterDir: '/a', outputDir: '/o', pairsFile: '/p.jsonl' }))).toMatchObject({ rejected: 'generated' });
    const g = generateTrainerConfig(generationSchema.parse({}), { baseModel: '/m', adapterDir: '/a', inputFile: '/i.jsonl', outputFile: '/o.jsonl', chatTemplate: '{{x}}' });
    expect(TRAINER_CONFIG_SCHEMAS.generate.parse(g)).toMatchObject({ adapter_dir: '/a', chat_template: '{{x}}', max_new_tokens: 512 });
  });
});
