/** Shared helpers for the text tests: the real web pages in tests/fixtures/web-pages and MiniLM's tokenizer. */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../../../lib/config';
import { docIdFor } from '../../../lib/hash';
import type { RawDocument } from '../../../lib/schemas/documents';

export const WEB_PAGES_DIR = path.resolve(PROJECT_ROOT, 'tests/fixtures/web-pages');

export interface ExpectedMetadata {
  title: string | null;
  byline: string | null;
  publishedTime: string | null;
  lang: string | null;
  siteName: string | null;
}

export interface WebPage {
  name: string;
  html: string;
  expected: ExpectedMetadata;
}

/** Every fixture page (folders with a source.html), sorted by name; fails clearly when the fixtures are missing. */
export function loadWebPages(): WebPage[] {
  if (!fs.existsSync(WEB_PAGES_DIR)) {
    throw new Error(
      `web page fixtures not found at ${WEB_PAGES_DIR}: the repository's fixture pages (tests/fixtures/web-pages) are missing`,
    );
  }
  return fs
    .readdirSync(WEB_PAGES_DIR)
    .filter((name) => fs.existsSync(path.join(WEB_PAGES_DIR, name, 'source.html')))
    .sort()
    .map((name) => ({
      name,
      html: fs.readFileSync(path.join(WEB_PAGES_DIR, name, 'source.html'), 'utf8'),
      expected: JSON.parse(fs.readFileSync(path.join(WEB_PAGES_DIR, name, 'expected-metadata.json'), 'utf8')) as ExpectedMetadata,
    }));
}

/** A crawled web document as the crawler would hand it over (served from a local test host). */
export function rawWebPage(name: string, html: string): RawDocument {
  const url = `http://fakehost/test/${name}/`;
  return { docId: docIdFor(url), sourceId: 'fixtures', sourceType: 'web', location: url, url, contentType: 'text/html; charset=utf-8', body: html, metadata: {} };
}

/** A raw document of any content type, for the small hand-written inputs. */
export function rawDoc(body: string, contentType: string, extra: Partial<RawDocument> = {}): RawDocument {
  const location = extra.url ?? extra.path ?? 'https://example.com/post';
  return { docId: docIdFor(location), sourceId: 'test', sourceType: 'web', location, contentType, body, metadata: {}, ...extra };
}

export const MODEL_NAME = 'all-MiniLM-L6-v2';

/** The embedding models folder; fails clearly when scripts/fetch-models.sh has not been run. */
export function modelsDir(): string {
  const dir = loadConfig().embedding.modelsDir;
  if (!fs.existsSync(path.join(dir, MODEL_NAME, 'tokenizer.json'))) {
    throw new Error(`the ${MODEL_NAME} tokenizer is not in ${dir}: run scripts/fetch-models.sh first`);
  }
  return dir;
}

/** Collapses whitespace, as bylines in the expected metadata keep the page's indentation. */
export function squash(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const s = value.replace(/\s+/g, ' ').trim();
  return s === '' ? undefined : s;
}
