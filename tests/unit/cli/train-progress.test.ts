/** The train run's progress line and result lines (cli/commands/train.ts): each figure says what it is. */
import { describe, expect, it } from 'vitest';
import { formatTrainProgress, formatTrainResult, trainProgressView } from '../../../cli/commands/train';
import type { TrainProgress, TrainResult } from '../../../lib/schemas/train';

const training = { attempt: 1, step: 750, maxSteps: 1500, loss: 0.48, learningRate: 2e-4, tokensPerSecond: 11_000, etaSeconds: 70 };
const progress = (p: Partial<TrainProgress>): TrainProgress => ({ stage: 'finetune', evaluations: [], ...p });

describe('train progress line', () => {
  it('shows the live step, loss, rate and ETA while fine-tuning, and the bar follows the steps', () => {
    const p = progress({ training });
    expect(formatTrainProgress(p)).toBe('[finetune] | step 750/1500 | loss 0.48 | lr 2.0e-4 | 11000 tok/s | ETA 1m10s');
    expect(trainProgressView(p)).toMatchObject({ value: 750, total: 1500 });
  });

  it('shows the DPO stage its own live figures too', () => {
    const p = progress({ stage: 'dpo', training: { ...training, step: 3, maxSteps: 10 } });
    expect(formatTrainProgress(p)).toContain('[dpo] | step 3/10 | loss 0.48');
    expect(trainProgressView(p)).toMatchObject({ value: 3, total: 10 });
  });

  it('while generating, labels the training figures as the finished run, not as live ones', () => {
    const line = formatTrainProgress(progress({ stage: 'generate', training: { ...training, step: 1500 } }));
    expect(line).toBe('[generate] | trained 1500 steps, last loss 0.48');
    expect(line).not.toMatch(/ETA|tok\/s/);
    expect(formatTrainProgress(progress({ stage: 'generate', training, generation: { done: 60, total: 60 } }))).toContain('test answers 60/60');
  });
});

describe('train result lines', () => {
  const result = (trainLoss: number | null) =>
    ({
      report: { markdown: '| model |', reportUri: 's3://b/r.md', chartUri: 's3://b/c.svg' },
      dataset: { name: 'reviews', version: 'v1', manifestUri: 's3://b/m.json' },
      fineTune: { adapterUri: 's3://b/adapter', metrics: { trainLoss, runtimeSeconds: 1, trainTokens: 1, globalStep: 1500 } },
    }) as unknown as TrainResult;

  it('says the mean training loss, or that the trainer reported none (never 0)', () => {
    expect(formatTrainResult(result(0.9123))).toContain('(1500 steps, mean training loss 0.9123)');
    expect(formatTrainResult(result(null))).toContain('(1500 steps, mean training loss not reported)');
  });
});
