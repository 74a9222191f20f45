/**
 * What the publish activity's tests hand it: a tiny LoRA adapter uploaded to the test bucket, one fine-tuned model's
 * evaluation, and the publish input around them. Shared by the Hub publishing tests (train/dataset-publish and
 * security/surfaces-publish), which differ only in the publish settings they pass.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { uploadDir } from '../../activities/gpu/s3-dirs';
import type { PublishInput } from '../../activities/publish';
import type { ArtifactStore } from '../../lib/artifacts';
import { type ModelEvaluation, publishSchema, trainingSchema } from '../../lib/schemas/train';

export const FINE_TUNED_EVALUATION: ModelEvaluation = {
  model: 'tiny',
  kind: 'fine-tuned',
  count: 6,
  rougeLsum: 0.5,
  ratingsRmse: 0.8,
  ratingsMae: 0.6,
  formatCompliance: 1,
  ratedCount: 6,
  perKeyRmse: {},
  predictionsUri: 's3://x/p.jsonl',
  resultsUri: 's3://x/r.jsonl',
};

/** Uploads an adapter folder (config, eight bytes of weights, plus `extra` files) under `key`; returns its URI. */
export async function uploadTinyAdapter(artifacts: ArtifactStore, key: string, extra: Record<string, string> = {}): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-adapter-'));
  try {
    fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({ r: 4, peft_type: 'LORA' }));
    fs.writeFileSync(path.join(dir, 'adapter_model.safetensors'), Buffer.from([0, 1, 2, 3, 0, 255, 7, 8]));
    for (const [file, text] of Object.entries(extra)) fs.writeFileSync(path.join(dir, file), text);
    return (await uploadDir(artifacts, dir, key)).uri;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The publish activity's input for the adapter at `adapterUri`, with `publish` parsed by the schema. */
export function publishInput(adapterUri: string, publish: object): PublishInput {
  return {
    publish: publishSchema.parse(publish),
    baseModel: 'meta-llama/Llama-3.1-8B-Instruct',
    adapterUri,
    dataset: { name: 'reviews', version: 'v1', manifestUri: 's3://x/m.json', counts: { train: 40, validation: 5, test: 6 } },
    model: FINE_TUNED_EVALUATION,
    evaluations: [FINE_TUNED_EVALUATION],
    training: trainingSchema.parse({}),
  };
}
