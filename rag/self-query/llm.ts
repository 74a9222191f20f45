/**
 * Self-query by LLM: the model reads the question and a summary of what the collection holds, and answers with the
 * entities in a fixed JSON shape (zod-validated). Its answer goes through the same catalog validation as the rules
 * (entitiesToFilter), so a hallucinated author or tag never becomes a filter.
 */
import { z } from 'zod';
import type { Catalog } from '../catalog';
import type { RagChat } from '../llm';
import { selfQueryPrompt } from '../prompts';
import { parseIsoDate } from './dates';
import { noEntities, type Entities } from './entities';

const list = z.array(z.string()).nullish().transform((v) => v ?? []);
const date = z.string().nullish().transform((v) => v ?? undefined);

export const llmEntitiesSchema = z.object({
  authors: list,
  sources: list,
  sourceTypes: list,
  tags: list,
  publishedAfter: date,
  publishedBefore: date,
});

/** The prompt lists at most this many values per field (long tails go unnamed; the rules still match them). */
const MAX_LISTED = 200;

export async function extractEntitiesWithLlm(llm: RagChat, question: string, catalog: Catalog, now: Date = new Date(), signal?: AbortSignal): Promise<Entities> {
  const day = (t: number) => new Date(t).toISOString().slice(0, 10);
  const summary = {
    authors: catalog.authors.slice(0, MAX_LISTED),
    sources: catalog.sourceIds.slice(0, MAX_LISTED),
    sourceTypes: catalog.sourceTypes,
    tags: catalog.tags.slice(0, MAX_LISTED),
    published: catalog.published && { from: day(catalog.published.min), to: day(catalog.published.max) },
  };
  const { value } = await llm.chatJson(llmEntitiesSchema, selfQueryPrompt(question, summary, day(now.getTime())), { temperature: 0, signal });
  const e = noEntities();
  e.authors.push(...value.authors);
  e.sourceIds.push(...value.sources);
  e.sourceTypes.push(...value.sourceTypes);
  e.tags.push(...value.tags);
  const gte = value.publishedAfter ? parseIsoDate(value.publishedAfter, 'start') : undefined;
  const lte = value.publishedBefore ? parseIsoDate(value.publishedBefore, 'end') : undefined;
  if (gte !== undefined || lte !== undefined) e.published = { gte, lte };
  e.evidence.push('llm');
  return e;
}
