/** Token and cost accounting across calls, per model. */
import type { Usage } from './types';

/** USD per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
}

/** List prices of common OpenAI models (USD per 1M tokens; check your provider's current prices). */
export const DEFAULT_PRICES: Record<string, ModelPrice> = {
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
};

export interface ModelTally {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  /** False when no price is known for this model (its cost counts as 0). */
  priced: boolean;
}

export interface TallySnapshot extends Omit<ModelTally, 'priced'> {
  /** HTTP attempts including retries. */
  attempts: number;
  failures: number;
  byModel: Record<string, ModelTally>;
}

/** Price of a model id: exact match first, then the longest known prefix ("gpt-4o-mini-2024-07-18" → gpt-4o-mini). */
export function priceOf(model: string, prices: Record<string, ModelPrice>): ModelPrice | undefined {
  if (prices[model]) return prices[model];
  const key = Object.keys(prices)
    .filter((k) => model.startsWith(`${k}-`))
    .sort((a, b) => b.length - a.length)[0];
  return key ? prices[key] : undefined;
}

export class UsageTally {
  private readonly models = new Map<string, ModelTally>();
  private attempts = 0;
  private failures = 0;

  constructor(readonly prices: Record<string, ModelPrice> = DEFAULT_PRICES) {}

  record(model: string, usage: Usage): void {
    const price = priceOf(model, this.prices);
    const t = this.models.get(model) ?? { requests: 0, promptTokens: 0, completionTokens: 0, costUsd: 0, priced: price !== undefined };
    t.requests += 1;
    t.promptTokens += usage.promptTokens;
    t.completionTokens += usage.completionTokens;
    if (price) t.costUsd += (usage.promptTokens * price.input + usage.completionTokens * price.output) / 1e6;
    this.models.set(model, t);
  }

  recordAttempt(failed: boolean): void {
    this.attempts += 1;
    if (failed) this.failures += 1;
  }

  snapshot(): TallySnapshot {
    const byModel = Object.fromEntries([...this.models].map(([k, v]) => [k, { ...v }]));
    const all = [...this.models.values()];
    return {
      requests: all.reduce((a, t) => a + t.requests, 0),
      promptTokens: all.reduce((a, t) => a + t.promptTokens, 0),
      completionTokens: all.reduce((a, t) => a + t.completionTokens, 0),
      costUsd: all.reduce((a, t) => a + t.costUsd, 0),
      attempts: this.attempts,
      failures: this.failures,
      byModel,
    };
  }
}
