/**
 * Baselines: any OpenAI-compatible model answers the same test prompts, zero-shot or with a few worked examples from
 * the train split (chosen by the hash of seed and id, so every run shows the same ones). The format instructions are
 * added to the system prompt so that a model that never saw the training data can follow the output format.
 */
import { sha256 } from '../../lib/hash';
import type { ChatClient, ChatMessage } from '../../lib/llm';
import { formatInstructions, formatOutput, parseOutput, type Ratings } from '../../lib/metrics/output-format';
import { bm25Index } from '../../lib/metrics/nearest';
import type { Example, OutputFormat } from '../../lib/schemas/train';
import { promptOf } from '../gpu/generate';
import { referenceOf, type Prediction } from './score';

export function pickShots(train: readonly Example[], shots: number, seed: number): Example[] {
  return [...train]
    .map((e) => ({ e, k: sha256(`${seed}:shot:${e.id}`) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .slice(0, shots)
    .map((x) => x.e);
}

/** The baseline's conversation for one test example. */
export function baselineMessages(test: Example, shots: readonly Example[], format: OutputFormat): ChatMessage[] {
  const prompt = promptOf(test);
  const instructions = formatInstructions(format);
  const system = prompt.find((m) => m.role === 'system')?.content;
  const systemText = [system, instructions].filter(Boolean).join('\n\n');
  const out: ChatMessage[] = systemText ? [{ role: 'system', content: systemText }] : [];
  for (const s of shots) {
    for (const m of promptOf(s)) if (m.role !== 'system') out.push({ role: m.role, content: m.content });
    out.push({ role: 'assistant', content: referenceOf(s) });
  }
  for (const m of prompt) if (m.role !== 'system') out.push({ role: m.role, content: m.content });
  return out;
}

export async function runBaselinePredictions(
  client: ChatClient,
  tests: readonly Example[],
  shots: readonly Example[],
  format: OutputFormat,
  o: {
    temperature: number;
    maxTokens: number;
    onProgress?: (done: number) => void;
    signal?: AbortSignal;
    /** Asks instead of `client.chat` (the S3 answer cache, activities/model-eval/cache.ts), given the example id. */
    ask?: (exampleId: string, messages: ChatMessage[], opts: { temperature: number; maxTokens: number; signal?: AbortSignal }) => Promise<{ content: string }>;
  },
): Promise<{ predictions: Prediction[]; failed: number }> {
  let done = 0;
  let failed = 0;
  const predictions = await Promise.all(
    tests.map(async (t): Promise<Prediction> => {
      try {
        const messages = baselineMessages(t, shots, format);
        const opts = { temperature: o.temperature, maxTokens: o.maxTokens, signal: o.signal };
        const r = o.ask ? await o.ask(t.id, messages, opts) : await client.chat(messages, opts);
        return { id: t.id, output: r.content };
      } catch (err) {
        if (o.signal?.aborted) throw err;
        // One prompt the API keeps failing on is scored as an empty answer, not a failed evaluation.
        failed += 1;
        return { id: t.id, output: '', error: (err as Error).message.slice(0, 300) };
      } finally {
        done += 1;
        o.onProgress?.(done);
      }
    }),
  );
  return { predictions, failed };
}

// ------------------------------------------------------------------------------------------------ no-LLM floors

/**
 * Baselines that need no model at all, so every report has a floor to beat even offline:
 *
 * - `train-mean`: predicts, for every test example, the train split's mean of each rating (the constant that
 *   minimises squared error on train). It writes no text, so its ROUGE-Lsum is n/a.
 * - `nearest-train`: answers each test example with the answer of the train example whose user prompt is nearest
 *   by BM25 (lib/metrics/nearest.ts): the text for ROUGE-Lsum and that example's ratings for RMSE.
 */
export const FLOOR_BASELINES = ['train-mean', 'nearest-train'] as const;
export type FloorBaseline = (typeof FLOOR_BASELINES)[number];

/** The train split's mean of each rating (undefined for a text-only format or when no train reference has one). */
export function meanRatings(train: readonly Example[], format: OutputFormat): Ratings | undefined {
  const spec = format.ratings;
  if (!spec) return undefined;
  const out: Ratings = {};
  for (const key of spec.keys) {
    const values = train.map((e) => parseOutput(referenceOf(e), format).ratings?.[key]).filter((v): v is number => v !== undefined);
    if (values.length === 0) return undefined;
    out[key] = values.reduce((a, v) => a + v, 0) / values.length;
  }
  return out;
}

const userText = (e: Example) =>
  promptOf(e)
    .filter((m) => m.role === 'user')
    .map((m) => m.content)
    .join('\n');

/** The floor baseline's outputs for the test examples, in the fixed format (so they are scored like any model's). */
export function floorPredictions(kind: FloorBaseline, train: readonly Example[], tests: readonly Example[], format: OutputFormat): Prediction[] {
  if (kind === 'train-mean') {
    const means = meanRatings(train, format);
    // The ratings line alone: the scorer reads it like any output (its empty text scores ROUGE 0, reported as n/a).
    return tests.map((t) => ({ id: t.id, output: means && format.ratings ? formatOutput('', means, format) : '' }));
  }
  if (train.length === 0) return tests.map((t) => ({ id: t.id, output: '', error: 'the train split is empty' }));
  const index = bm25Index(train.map(userText));
  return tests.map((t) => ({ id: t.id, output: referenceOf(train[index.nearest(userText(t)).index]!) }));
}
