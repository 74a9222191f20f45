/**
 * The LLM steps of pre-retrieval: query rewriting, query expansion and HyDE. Each is one call to any
 * OpenAI-compatible chat model through lib/llm (JSON answers validated by zod, with the client's repair loop).
 */
import { z } from 'zod';
import type { ChatClient } from '../lib/llm';
import { expansionPrompt, hydePrompt, rewritePrompt } from './prompts';

/** What rag needs of a chat client (lib/llm's ChatClient has it; tests may pass their own). */
export type RagChat = Pick<ChatClient, 'model' | 'chat' | 'stream' | 'chatJson'>;

const rewriteSchema = z.object({ query: z.string().trim().min(1) });

export async function rewriteQuery(llm: RagChat, question: string, signal?: AbortSignal): Promise<string> {
  const { value } = await llm.chatJson(rewriteSchema, rewritePrompt(question), { temperature: 0, signal });
  return value.query;
}

/** N reformulations, distinct from the question and from each other (case-insensitively); at most n. */
export async function expandQuery(llm: RagChat, question: string, n: number, signal?: AbortSignal): Promise<string[]> {
  const schema = z.object({ queries: z.array(z.string()).min(1) });
  const { value } = await llm.chatJson(schema, expansionPrompt(question, n), { temperature: 0.7, signal });
  const seen = new Set([question.trim().toLowerCase()]);
  const out: string[] = [];
  for (const q of value.queries.map((s) => s.trim()).filter(Boolean)) {
    const key = q.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(q);
    if (out.length === n) break;
  }
  return out;
}

export async function hypotheticalAnswer(llm: RagChat, question: string, signal?: AbortSignal): Promise<string> {
  const res = await llm.chat(hydePrompt(question), { temperature: 0.3, maxTokens: 256, signal });
  const text = res.content.trim();
  if (!text) throw new Error('HyDE: the model returned an empty passage');
  return text;
}
