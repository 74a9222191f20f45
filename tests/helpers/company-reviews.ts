/**
 * The company-reviews example (examples/reviews/companies.jsonl) as the training tests use it: its records, its
 * output format, and a `train` input on the tiny model sized for seconds on CPU. The train workflow test, the review
 * and eval-model tests, the secret scan and the GPU-kill fault test each differ from this input in a few knobs only,
 * which they pass; everything else is written here once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../lib/config';
import { outputFormatSchema, type TrainInput } from '../../lib/schemas/train';

export const COMPANIES_PATH = path.join(PROJECT_ROOT, 'examples/reviews/companies.jsonl');
export const REVIEW_SYSTEM = 'You review companies as an employee would.';
export const RATING_KEYS = ['overall', 'culture', 'compensation', 'balance'];

export type Company = Record<string, string | number>;

export const companies: Company[] = fs
  .readFileSync(COMPANIES_PATH, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Company);

export const reviewFormat = outputFormatSchema.parse({ ratings: { keys: RATING_KEYS } });

/** A company's four ratings under the format's keys (the records call balance `work_life_balance`). */
export const ratingsOf = (c: Company) => ({ overall: Number(c.overall), culture: Number(c.culture), compensation: Number(c.compensation), balance: Number(c.work_life_balance) });

type Training = NonNullable<TrainInput['training']>;
type Generation = NonNullable<TrainInput['generation']>;

export interface TinyTrainOptions {
  name: string;
  /** The tiny model's folder (tests/integration/train/tiny-model.ts): base model and tokenizer. */
  tiny: string;
  /** The adapter's name. */
  model: string;
  gpu: TrainInput['gpu'];
  /** Merged over the LoRA settings below (steps, checkpoints). */
  training?: Partial<Training>;
  generation?: Partial<Generation>;
  dataset?: { name?: string; system?: string | null };
}

/**
 * A train input on the tiny model that trains on CPU. No validation split: the trainer would evaluate at every
 * checkpoint, which costs seconds per step here. `rest` (evaluation, publish, review...) is spread last.
 */
export function tinyCompanyTrainInput(o: TinyTrainOptions, rest: Partial<TrainInput> = {}): TrainInput {
  const system = o.dataset?.system === undefined ? REVIEW_SYSTEM : o.dataset.system;
  return {
    name: o.name,
    dataset: {
      name: o.dataset?.name ?? 'company-reviews',
      source: {
        kind: 'records',
        uri: COMPANIES_PATH,
        idField: 'id',
        template: { ...(system === null ? {} : { system }), user: 'Review {{name}}: {{description}}', response: '{{review}}', ratingFields: { balance: 'work_life_balance' } },
      },
      format: { ratings: { keys: [...RATING_KEYS] } },
      split: { validation: 0, test: 0.1, seed: 42 },
      tokenizer: o.tiny,
      maxSeqLength: 512,
    },
    model: { baseModel: o.tiny, name: o.model },
    training: {
      maxSteps: 1,
      saveSteps: 100,
      loggingSteps: 1,
      perDeviceBatchSize: 2,
      gradientAccumulationSteps: 1,
      learningRate: 1e-3,
      warmupRatio: 0,
      gradientCheckpointing: false,
      device: 'cpu',
      lora: { r: 4, alpha: 8, dropout: 0 },
      ...o.training,
    },
    generation: { maxNewTokens: 8, batchSize: 8, device: 'cpu', ...o.generation },
    gpu: o.gpu,
    ...rest,
  } as TrainInput;
}
