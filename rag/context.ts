/**
 * From ranked hits to the numbered sources of the prompt. Small-to-big: each matched child chunk is replaced by its
 * parent section (VectorStore.getParents), and hits that share a parent (or identical text) become one source,
 * ranked where its best chunk ranked. Without it, each chunk is a source of its own.
 */
import type { VectorStore } from '../lib/vectorstore/types';
import type { PromptSource } from './prompts';
import type { RetrievedHit } from './retrieve';

export interface ContextSource extends PromptSource {
  docId: string;
  collection: string;
  url?: string;
  headingPath: string;
  /** The parent section's id when the text is the parent's. */
  parentId?: string;
  /** The matched chunks this source stands for, best first. */
  chunkIds: string[];
  /** The best score among its chunks (re-rank score when re-ranked). */
  score: number;
}

export async function buildSources(store: VectorStore, hits: readonly RetrievedHit[], smallToBig: boolean): Promise<ContextSource[]> {
  const parents = new Map<string, string>();
  if (smallToBig) {
    const byCollection = new Map<string, Set<string>>();
    for (const h of hits) {
      if (!h.payload.parentId) continue;
      const set = byCollection.get(h.collection) ?? new Set<string>();
      set.add(h.payload.parentId);
      byCollection.set(h.collection, set);
    }
    await Promise.all(
      [...byCollection].map(async ([collection, ids]) => {
        for (const p of await store.getParents(collection, [...ids])) parents.set(`${collection}/${p.parentId}`, p.text);
      }),
    );
  }

  const sources: ContextSource[] = [];
  const byKey = new Map<string, ContextSource>();
  for (const h of hits) {
    const parentText = smallToBig ? parents.get(`${h.collection}/${h.payload.parentId}`) : undefined;
    const text = parentText ?? h.text;
    // One source per parent section; without a parent, identical chunk text (e.g. one page under two URLs) merges too.
    const key = parentText !== undefined ? `p:${h.collection}/${h.payload.parentId}` : `t:${text.trim()}`;
    const score = h.rerankScore ?? h.score;
    const existing = byKey.get(key);
    if (existing) {
      existing.chunkIds.push(h.id);
      existing.score = Math.max(existing.score, score);
      continue;
    }
    const source: ContextSource = {
      n: sources.length + 1,
      docId: h.payload.docId,
      collection: h.collection,
      title: h.payload.title,
      url: h.payload.url,
      location: h.payload.url ?? h.payload.location,
      headingPath: h.payload.headingPath,
      parentId: parentText !== undefined ? h.payload.parentId : undefined,
      text,
      chunkIds: [h.id],
      score,
    };
    byKey.set(key, source);
    sources.push(source);
  }
  return sources;
}
