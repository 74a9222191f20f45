/**
 * Builds a real index of the fixture corpus for retrieval tests, with the feature pipeline's own library functions:
 * the real pages (tests/fixtures/web-pages) as a crawler of a fixed origin would see them (relative links resolve
 * against the page URL, so a random test port would change every chunk's text and defeat the embedding cache),
 * cleaned (lib/text clean), chunked with the MiniLM tokenizer and the
 * ingest defaults (small-to-big parents), embedded with the real local MiniLM model, and loaded with their parents
 * into the given store. Embeddings go through the pipeline's embedding cache, kept in a LanceDB folder under
 * .twinflow/test-cache, so only the first run of a machine pays for embedding the corpus.
 */
import fs from 'node:fs';
import path from 'node:path';
import { toPayload } from '../../../../activities/chunk';
import { PROJECT_ROOT } from '../../../../lib/config';
import { canonicalUrl } from '../../../../lib/crawl/canonical-url';
import { CachedEmbedder, LocalEmbedder, VectorStoreEmbeddingCache } from '../../../../lib/embedding';
import type { Embedder } from '../../../../lib/embedding/types';
import { docIdFor, sha256 } from '../../../../lib/hash';
import type { CleanDocument } from '../../../../lib/schemas/documents';
import { chunkingSchema } from '../../../../lib/schemas/ingest';
import { chunkDocument, cleanDocument, loadTokenizer, type ModelTokenizer } from '../../../../lib/text';
import { LanceDBStore } from '../../../../lib/vectorstore/lancedb';
import type { ParentRecord, Point, VectorStore } from '../../../../lib/vectorstore/types';
import { FIXTURE_PAGES_DIR } from '../../../helpers/fixture-site';

/** The origin the corpus is "served" from: stable, so chunk texts (and their cached embeddings) are too. */
export const FIXTURE_BASE_URL = 'http://fixtures.twinflow.test';
export const MODELS_DIR = path.join(PROJECT_ROOT, '.twinflow', 'models');
export const EMBEDDING_CACHE_DIR = path.join(PROJECT_ROOT, '.twinflow', 'test-cache', 'rag-embeddings');

export interface FixtureIndex {
  docs: CleanDocument[];
  /** docId of each page, by folder name. */
  docIdOf: Map<string, string>;
  chunks: number;
  parents: number;
}

/** The local MiniLM embedder, behind the persistent test embedding cache. */
export async function testEmbedder(): Promise<{ embedder: Embedder; close(): Promise<void> }> {
  const local = await LocalEmbedder.create({ model: 'all-MiniLM-L6-v2', modelsDir: MODELS_DIR, allowRemote: false });
  const cacheStore = new LanceDBStore({ uri: EMBEDDING_CACHE_DIR });
  return { embedder: new CachedEmbedder(local, new VectorStoreEmbeddingCache(cacheStore)), close: () => cacheStore.close() };
}

export function testTokenizer(): Promise<ModelTokenizer> {
  return loadTokenizer('all-MiniLM-L6-v2', { modelsDir: MODELS_DIR });
}

/**
 * The cleaned fixture documents. Cleaning 47 real pages takes seconds, so the result is cached under
 * .twinflow/test-cache, keyed by the pages and the cleaner's source code: any change to either cleans again.
 */
export function cleanFixtureDocs(pages?: string[]): CleanDocument[] {
  const slugs = (pages ?? fs.readdirSync(FIXTURE_PAGES_DIR)).filter((s) => fs.existsSync(path.join(FIXTURE_PAGES_DIR, s, 'source.html'))).sort();
  const textDir = path.join(PROJECT_ROOT, 'lib', 'text');
  const code = fs
    .readdirSync(textDir)
    .sort()
    .map((f) => fs.readFileSync(path.join(textDir, f), 'utf8'));
  const key = sha256(JSON.stringify([FIXTURE_BASE_URL, code, slugs.map((s) => sha256(fs.readFileSync(path.join(FIXTURE_PAGES_DIR, s, 'source.html'))))])).slice(0, 16);
  const cacheFile = path.join(PROJECT_ROOT, '.twinflow', 'test-cache', `rag-fixture-docs-${key}.json`);
  if (fs.existsSync(cacheFile)) return JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as CleanDocument[];
  const docs: CleanDocument[] = [];
  for (const slug of slugs) {
    const url = canonicalUrl(`${FIXTURE_BASE_URL}/${slug}/`);
    const meta = JSON.parse(fs.readFileSync(path.join(FIXTURE_PAGES_DIR, slug, 'expected-metadata.json'), 'utf8')) as { publishedTime?: string | null };
    // The date a crawler reads from the feed or the page; a time without a zone is taken as UTC.
    const published = meta.publishedTime ? Date.parse(/(Z|[+-]\d\d:?\d\d)$/.test(meta.publishedTime) ? meta.publishedTime : `${meta.publishedTime.replace(' ', 'T')}Z`) : NaN;
    const cleaned = cleanDocument({
      docId: docIdFor(url),
      sourceId: 'fixture-site',
      sourceType: 'web',
      location: url,
      url,
      ...(Number.isFinite(published) && { publishedAt: new Date(published).toISOString() }),
      contentType: 'text/html; charset=utf-8',
      body: fs.readFileSync(path.join(FIXTURE_PAGES_DIR, slug, 'source.html'), 'utf8'),
      metadata: {},
    });
    if (cleaned.ok) docs.push(cleaned.doc);
  }
  fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(docs));
  fs.renameSync(tmp, cacheFile);
  return docs;
}

export async function buildFixtureIndex(opts: { store: VectorStore; collection: string; embedder: Embedder; pages?: string[] }): Promise<FixtureIndex> {
  const tokenizer = await testTokenizer();
  const chunking = chunkingSchema.parse({});
  const docs: CleanDocument[] = [];
  const points: Array<Omit<Point, 'vector'>> = [];
  const parents: ParentRecord[] = [];
  for (const doc of cleanFixtureDocs(opts.pages)) {
    docs.push(doc);
    const out = chunkDocument(doc, tokenizer, chunking);
    for (const p of out.parents) parents.push({ parentId: p.parentId, docId: p.docId, text: p.text, headingPath: p.headingPath.join(' > ') });
    for (const c of out.chunks) points.push({ id: c.id, text: c.text, payload: { ...toPayload(doc, c), model: opts.embedder.modelId } });
  }
  const vectors = await opts.embedder.embed(points.map((p) => p.text));
  await opts.store.ensureCollection(opts.collection, { dimension: opts.embedder.dimension, distance: 'cosine' });
  await opts.store.upsert(
    opts.collection,
    points.map((p, i) => ({ ...p, vector: vectors[i]! })),
  );
  await opts.store.upsertParents(opts.collection, parents);
  const docIdOf = new Map(docs.map((d) => [new URL(d.url!).pathname.split('/').find(Boolean)!, d.docId]));
  return { docs, docIdOf, chunks: points.length, parents: parents.length };
}

/**
 * A user's LanceDB folder holding the fixture pages, for tests whose CLI commands (`ask`, `search`) open it
 * themselves: built with the test embedder, then store and embedder closed so the commands own the folder.
 */
export async function writeFixtureIndex(uri: string, collection: string, pages: string[]): Promise<void> {
  const store = new LanceDBStore({ uri });
  const { embedder, close } = await testEmbedder();
  try {
    await buildFixtureIndex({ store, collection, embedder, pages });
  } finally {
    await store.close();
    await close();
  }
}
