/**
 * What a collection actually holds, per filterable field: the authors, sources, source types, tags and date range
 * present in its payloads. Self-query and routing validate the filters they derive against it, so a filter never
 * names a value that is not there (which would silently return nothing). Built by one scroll over the payloads and
 * cached for a while: collections change only when a pipeline loads them.
 */
import type { ChunkPayload, VectorStore } from '../lib/vectorstore/types';

export interface DocInfo {
  docId: string;
  url?: string;
  location: string;
  title?: string;
}

export interface Catalog {
  collection: string;
  points: number;
  authors: string[];
  sourceIds: string[];
  sourceTypes: string[];
  tags: string[];
  languages: string[];
  /** Range of publishedTs over the points that have one; undefined when none has a date. */
  published?: { min: number; max: number };
  docs: Map<string, DocInfo>;
}

export function emptyCatalog(collection: string): Catalog {
  return { collection, points: 0, authors: [], sourceIds: [], sourceTypes: [], tags: [], languages: [], docs: new Map() };
}

/** Folds payloads into a catalog (exported for tests and for callers that already hold the payloads). */
export function catalogFromPayloads(collection: string, payloads: Iterable<ChunkPayload>): Catalog {
  const authors = new Set<string>();
  const sourceIds = new Set<string>();
  const sourceTypes = new Set<string>();
  const tags = new Set<string>();
  const languages = new Set<string>();
  const docs = new Map<string, DocInfo>();
  let points = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const p of payloads) {
    points++;
    if (p.author) authors.add(p.author);
    sourceIds.add(p.sourceId);
    sourceTypes.add(p.sourceType);
    for (const t of p.tags ?? []) tags.add(t);
    if (p.language) languages.add(p.language);
    if (typeof p.publishedTs === 'number' && Number.isFinite(p.publishedTs)) {
      min = Math.min(min, p.publishedTs);
      max = Math.max(max, p.publishedTs);
    }
    if (!docs.has(p.docId)) docs.set(p.docId, { docId: p.docId, url: p.url, location: p.location, title: p.title });
  }
  const sorted = (s: Set<string>) => [...s].sort();
  return {
    collection,
    points,
    authors: sorted(authors),
    sourceIds: sorted(sourceIds),
    sourceTypes: sorted(sourceTypes),
    tags: sorted(tags),
    languages: sorted(languages),
    published: min <= max ? { min, max } : undefined,
    docs,
  };
}

export async function buildCatalog(store: VectorStore, collection: string): Promise<Catalog> {
  const list: ChunkPayload[] = [];
  for await (const { payload } of store.scroll(collection)) list.push(payload);
  return catalogFromPayloads(collection, list);
}

/** Merges the catalogs of several collections (a search over many collections validates against their union). */
export function mergeCatalogs(catalogs: Catalog[]): Catalog {
  const union = (f: (c: Catalog) => string[]) => [...new Set(catalogs.flatMap(f))].sort();
  const dated = catalogs.filter((c) => c.published);
  return {
    collection: catalogs.map((c) => c.collection).join(','),
    points: catalogs.reduce((n, c) => n + c.points, 0),
    authors: union((c) => c.authors),
    sourceIds: union((c) => c.sourceIds),
    sourceTypes: union((c) => c.sourceTypes),
    tags: union((c) => c.tags),
    languages: union((c) => c.languages),
    published: dated.length
      ? { min: Math.min(...dated.map((c) => c.published!.min)), max: Math.max(...dated.map((c) => c.published!.max)) }
      : undefined,
    docs: new Map(catalogs.flatMap((c) => [...c.docs])),
  };
}

/**
 * Catalogs per collection. Concurrent callers share one build. After `ttlMs` a catalog is rebuilt in the background
 * while callers keep getting the previous one, so no search waits for a scroll of a big collection except the first.
 */
export class CatalogCache {
  private readonly entries = new Map<string, { at: number; catalog: Promise<Catalog>; refreshing?: Promise<unknown> }>();

  constructor(
    private readonly store: VectorStore,
    private readonly ttlMs = 5 * 60_000,
  ) {}

  get(collection: string): Promise<Catalog> {
    const hit = this.entries.get(collection);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.catalog;
    if (hit) {
      hit.refreshing ??= buildCatalog(this.store, collection).then(
        (catalog) => this.entries.set(collection, { at: Date.now(), catalog: Promise.resolve(catalog) }),
        () => (hit.refreshing = undefined), // keep serving the old one; try again on a later call
      );
      return hit.catalog;
    }
    const catalog = buildCatalog(this.store, collection).catch((err: unknown) => {
      this.entries.delete(collection);
      throw err;
    });
    this.entries.set(collection, { at: Date.now(), catalog });
    return catalog;
  }

  async forCollections(collections: string[]): Promise<Catalog> {
    const all = await Promise.all(collections.map((c) => this.get(c)));
    return all.length === 1 ? all[0]! : mergeCatalogs(all);
  }

  invalidate(collection?: string): void {
    if (collection === undefined) this.entries.clear();
    else this.entries.delete(collection);
  }
}
