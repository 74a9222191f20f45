/**
 * The optional preference-tuning stage of the `train` workflow (`dpo` in its input): DPO on the SFT adapter
 * (trainer/src/twinflow_trainer/dpo.py, TRL's DPOTrainer), before generation and evaluation. No side effects.
 */
import { z } from 'zod';

export const dpoSchema = z
  .object({
    /**
     * Where the pairs come from. "generated" (the LLM Engineer's Handbook's recipe): the train split's reference
     * answer is chosen, the SFT model's own greedy answer to the same prompt is rejected. "records": `pairsUri`.
     */
    pairs: z.enum(['generated', 'records']).default('generated'),
    /** JSON Lines of {"prompt": [messages], "chosen": "...", "rejected": "..."} (s3:// or a path on the GPU worker). */
    pairsUri: z.string().min(1).optional(),
    beta: z.number().positive().default(0.1),
    lossType: z.enum(['sigmoid', 'ipo', 'hinge', 'robust']).default('sigmoid'),
    learningRate: z.number().positive().default(5e-6),
    lrScheduler: z.enum(['linear', 'cosine', 'constant', 'constant_with_warmup']).default('cosine'),
    warmupRatio: z.number().min(0).lt(1).default(0.1),
    epochs: z.number().positive().default(1),
    /** -1: train by epochs. */
    maxSteps: z.number().int().min(-1).refine((v) => v !== 0, 'must be -1 or a positive number of steps').default(-1),
    perDeviceBatchSize: z.number().int().positive().default(1),
    gradientAccumulationSteps: z.number().int().positive().default(8),
    saveSteps: z.number().int().positive().default(100),
    loggingSteps: z.number().int().positive().default(10),
    /** Length of the generated (rejected) answers. */
    generateMaxNewTokens: z.number().int().positive().default(256),
    merge: z.boolean().default(false),
  })
  .strict()
  .refine((d) => d.pairs !== 'records' || d.pairsUri !== undefined, { message: 'pairs "records" needs pairsUri (JSON Lines of prompt, chosen, rejected)', path: ['pairsUri'] });
export type Dpo = z.infer<typeof dpoSchema>;

/** What the DPO stage returns beside the adapter: how many pairs it learnt from and how well it separates them. */
export interface DpoMetrics {
  pairs: number;
  pairsDropped: number;
  rewardAccuracy: number | null;
  rewardMargin: number | null;
}
