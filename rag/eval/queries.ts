/**
 * Labelled query sets (JSON Lines): each line a query and what is relevant to it, as docIds, or as pages (the first
 * segment of the document URL's path, e.g. "aclu" for http://host:port/aclu/) which are mapped to docIds at
 * evaluation time, so a set stays valid whichever host and port served the corpus.
 *
 *   {"id":"q1","query":"...","relevantPages":["aclu"],"kind":"paraphrase","evidence":"a phrase that answers it"}
 */
import fs from 'node:fs';
import { z } from 'zod';
import type { Catalog } from '../catalog';

export const labelledQuerySchema = z
  .object({
    id: z.string().min(1),
    query: z.string().min(1),
    relevantDocIds: z.array(z.string().min(1)).optional(),
    relevantPages: z.array(z.string().min(1)).optional(),
    /** A free label for per-kind breakdowns (paraphrase, keyword, author, date, multi...). */
    kind: z.string().optional(),
    /** Text that answers the query: compression is checked to keep it. */
    evidence: z.string().min(1).optional(),
  })
  .strict()
  .refine((q) => (q.relevantDocIds?.length ?? 0) + (q.relevantPages?.length ?? 0) > 0, 'expected relevantDocIds or relevantPages');
export type LabelledQuery = z.output<typeof labelledQuerySchema>;

export function parseQuerySet(text: string, source = 'queries'): LabelledQuery[] {
  const queries: LabelledQuery[] = [];
  const ids = new Set<string>();
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      throw new Error(`${source}:${i + 1}: not JSON: ${(err as Error).message}`, { cause: err });
    }
    const parsed = labelledQuerySchema.safeParse(json);
    if (!parsed.success) throw new Error(`${source}:${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.') || '(line)'}: ${x.message}`).join('; ')}`);
    if (ids.has(parsed.data.id)) throw new Error(`${source}:${i + 1}: duplicate id ${JSON.stringify(parsed.data.id)}`);
    ids.add(parsed.data.id);
    queries.push(parsed.data);
  });
  if (queries.length === 0) throw new Error(`${source}: no queries`);
  return queries;
}

export function loadQuerySet(file: string): LabelledQuery[] {
  return parseQuerySet(fs.readFileSync(file, 'utf8'), file);
}

/** The page name of a document: the first path segment of its URL (or location). */
export function pageOf(urlOrLocation: string): string | undefined {
  try {
    return new URL(urlOrLocation).pathname.split('/').find(Boolean);
  } catch {
    return urlOrLocation.split('/').find(Boolean);
  }
}

export interface ResolvedQuery extends LabelledQuery {
  relevant: Set<string>;
}

/** Maps page labels to the docIds in the catalog; reports pages the collection does not hold. */
export function resolveRelevance(queries: LabelledQuery[], catalog: Catalog): { queries: ResolvedQuery[]; warnings: string[] } {
  const byPage = new Map<string, string[]>();
  for (const doc of catalog.docs.values()) {
    const page = pageOf(doc.url ?? doc.location);
    if (page) byPage.set(page, [...(byPage.get(page) ?? []), doc.docId]);
  }
  const warnings: string[] = [];
  const resolved: ResolvedQuery[] = [];
  for (const q of queries) {
    const relevant = new Set(q.relevantDocIds ?? []);
    for (const page of q.relevantPages ?? []) {
      const ids = byPage.get(page);
      if (ids) ids.forEach((id) => relevant.add(id));
      else warnings.push(`${q.id}: page ${JSON.stringify(page)} is not in the collection`);
    }
    if (relevant.size === 0) warnings.push(`${q.id}: skipped, none of its relevant documents is in the collection`);
    else resolved.push({ ...q, relevant });
  }
  return { queries: resolved, warnings };
}
