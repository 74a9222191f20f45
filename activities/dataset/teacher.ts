/**
 * Instruction-answer pairs generated from the feature store's cleaned documents by a teacher LLM (any
 * OpenAI-compatible API): each document is cut into windows, the teacher answers in JSON validated by zod (re-asked
 * when invalid), calls run with bounded concurrency and a request rate, and tokens and cost are tallied.
 *
 * Answers are cached in S3 under the hash of (model, prompt, window text), so a retried activity, or a rebuild with
 * the same documents, pays for nothing twice.
 */
import { z } from 'zod';
import type { ArtifactStore } from '../../lib/artifacts';
import { hashJson, sha256 } from '../../lib/hash';
import type { ChatClient } from '../../lib/llm';
import type { CleanDocument } from '../../lib/schemas/documents';
import type { Example } from '../../lib/schemas/train';

export const pairsSchema = z.object({
  pairs: z
    .array(
      z.object({
        instruction: z.string().trim().min(10, 'an instruction needs at least 10 characters'),
        answer: z.string().trim().min(20, 'an answer needs at least 20 characters'),
      }),
    )
    .min(1),
});
export type GeneratedPairs = z.infer<typeof pairsSchema>;

export const TEACHER_SYSTEM_PROMPT =
  'You create fine-tuning data. From the text you are given, write instruction-answer pairs: the instruction is ' +
  'what a reader could ask or request, the answer is written in the voice and style of the text\'s author and uses ' +
  'only facts from the text. Answer with a JSON object {"pairs": [{"instruction": "...", "answer": "..."}]} and nothing else.';

/** Cuts text into windows of at most maxChars, on paragraph boundaries where possible. */
export function textWindows(markdown: string, maxChars: number): string[] {
  const paragraphs = markdown.split(/\n{2,}/).map((p) => p.trim()).filter(Boolean);
  const out: string[] = [];
  let cur = '';
  for (const p of paragraphs) {
    if (p.length > maxChars) {
      if (cur) out.push(cur);
      cur = '';
      for (let i = 0; i < p.length; i += maxChars) out.push(p.slice(i, i + maxChars));
      continue;
    }
    if (cur && cur.length + 2 + p.length > maxChars) {
      out.push(cur);
      cur = p;
    } else cur = cur ? `${cur}\n\n${p}` : p;
  }
  if (cur) out.push(cur);
  return out;
}

export interface TeacherOptions {
  client: ChatClient;
  artifacts: ArtifactStore;
  pairsPerWindow: number;
  maxCharsPerWindow: number;
  /** System prompt of the generated training conversations. */
  system: string;
  temperature: number;
  maxTokens: number;
  cachePrefix: string;
  onProgress?: (done: number, total: number) => void;
}

export interface TeacherResult {
  examples: Example[];
  windows: number;
  failedWindows: Array<{ docId: string; window: number; error: string }>;
  cacheHits: number;
}

export async function generateFromDocuments(docs: readonly CleanDocument[], o: TeacherOptions): Promise<TeacherResult> {
  const jobs = docs.flatMap((doc) => textWindows(doc.markdown, o.maxCharsPerWindow).map((text, window) => ({ doc, window, text })));
  const failedWindows: TeacherResult['failedWindows'] = [];
  let done = 0;
  let cacheHits = 0;
  const results = await Promise.all(
    jobs.map(async ({ doc, window, text }) => {
      const user = `Title: ${doc.title}\n\nText:\n${text}\n\nWrite ${o.pairsPerWindow} instruction-answer pairs.`;
      const key = `${o.cachePrefix.replace(/\/$/, '')}/${hashJson({ model: o.client.model, system: TEACHER_SYSTEM_PROMPT, user, temperature: o.temperature })}.json`;
      try {
        let pairs = await o.artifacts.getJsonIfExists<GeneratedPairs>(key);
        if (pairs && pairsSchema.safeParse(pairs).success) cacheHits += 1;
        else {
          const r = await o.client.chatJson(
            pairsSchema,
            [
              { role: 'system', content: TEACHER_SYSTEM_PROMPT },
              { role: 'user', content: user },
            ],
            { temperature: o.temperature, maxTokens: o.maxTokens },
          );
          pairs = r.value;
          await o.artifacts.putJson(key, pairs);
        }
        return pairs.pairs.slice(0, o.pairsPerWindow).map<Example>((p, i) => ({
          id: sha256(`${doc.docId}:${window}:${i}:${p.instruction}`).slice(0, 16),
          source: doc.docId,
          messages: [
            { role: 'system', content: o.system },
            { role: 'user', content: p.instruction.trim() },
            { role: 'assistant', content: p.answer.trim() },
          ],
        }));
      } catch (err) {
        // One window the teacher cannot answer is reported and skipped; it does not fail the dataset.
        failedWindows.push({ docId: doc.docId, window, error: (err as Error).message.slice(0, 300) });
        return [];
      } finally {
        done += 1;
        o.onProgress?.(done, jobs.length);
      }
    }),
  );
  return { examples: results.flat(), windows: jobs.length, failedWindows, cacheHits };
}
