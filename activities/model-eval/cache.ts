/**
 * Baseline answers cached in S3 by (endpoint, model, prompt, example): a paid API is asked once per test prompt, and
 * every later comparison on the same dataset (another variant, another run, `twinflow eval model`) reads the answer
 * back. The key covers everything that changes the answer (base URL, model, the whole conversation with its worked
 * examples and format instructions, temperature, max tokens), so a changed prompt is a miss, never a stale hit.
 * Failed requests are not cached: they are retried next time.
 */
import type { ArtifactStore } from '../../lib/artifacts';
import { sha256 } from '../../lib/hash';
import type { ChatClient, ChatMessage, ChatOptions, ChatResult } from '../../lib/llm';

export const BASELINE_CACHE_PREFIX = 'eval/_baseline-cache';

interface CachedAnswer {
  model: string;
  exampleId: string;
  content: string;
  usage: ChatResult['usage'];
  finishReason: string | null;
}

export function baselineCacheKey(o: { baseUrl: string; model: string; exampleId: string; messages: readonly ChatMessage[]; temperature?: number; maxTokens?: number }): string {
  const hash = sha256(JSON.stringify([o.baseUrl, o.model, o.exampleId, o.messages, o.temperature ?? null, o.maxTokens ?? null]));
  return `${BASELINE_CACHE_PREFIX}/${hash}.json`;
}

/**
 * A chat function that answers from the cache when it can. `hits` counts the answers read back (they cost nothing
 * this run: the client's tally only sees real requests).
 */
export function cachedChat(client: ChatClient, artifacts: ArtifactStore) {
  let hits = 0;
  return {
    get hits() {
      return hits;
    },
    async chat(exampleId: string, messages: ChatMessage[], o: ChatOptions): Promise<ChatResult> {
      const key = baselineCacheKey({ baseUrl: client.baseUrl, model: client.model, exampleId, messages, temperature: o.temperature, maxTokens: o.maxTokens });
      const cached = await artifacts.getJsonIfExists<CachedAnswer>(key);
      if (cached && typeof cached.content === 'string') {
        hits += 1;
        return { content: cached.content, finishReason: cached.finishReason, model: cached.model, usage: cached.usage, attempts: 0 };
      }
      const r = await client.chat(messages, o);
      const answer: CachedAnswer = { model: r.model || client.model, exampleId, content: r.content, usage: r.usage, finishReason: r.finishReason };
      await artifacts.putJson(key, answer);
      return r;
    },
  };
}
