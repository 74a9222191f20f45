/**
 * One page that breaks the HTML extractor must not cost the others: a folder holding two good documents and an HTML
 * export whose 10,000 nested <i> elements overflow the stack in Readability (a real input, not a stub), ingested by
 * the real workflow on the real stack. The crashing page is dropped with its reason and the error; the part it shares
 * with the good ones is cleaned, embedded and loaded as usual.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../../activities';
import { createDeps, type Deps } from '../../../activities/deps';
import type { IngestInput, IngestResult } from '../../../lib/schemas/ingest';
import { testConfig } from '../../harness/stack';
import { withWorker } from '../../harness/worker';

const config = testConfig({ LANCEDB_URI: path.join(os.tmpdir(), `twinflow-extractor-crash-${process.pid}-lancedb`) });
let dir: string;
let deps: Deps;
let result: IngestResult;

const prose = (topic: string) => `${topic} is described here in enough words to pass the minimum length of a cleaned document. `.repeat(6);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-extractor-crash-'));
  fs.writeFileSync(path.join(dir, 'a-notes.md'), `# Pelican migration\n\n${prose('The pelican migration')}\n`);
  fs.writeFileSync(
    path.join(dir, 'b-article.html'),
    `<!doctype html><html><head><title>Heron nesting</title></head><body><article><h1>Heron nesting</h1><p>${prose('Heron nesting')}</p><p>${prose('The heronry')}</p></article></body></html>`,
  );
  // An exported page whose italic tags were never closed: the DOM is 10,000 elements deep.
  fs.writeFileSync(
    path.join(dir, 'c-broken-export.html'),
    `<!doctype html><html><head><title>Broken export</title></head><body><article><h1>Broken export</h1><p>${prose('The export')}</p>${'<i>'.repeat(10_000)}deep${'</i>'.repeat(10_000)}</article></body></html>`,
  );
  fs.rmSync(config.vectorStore.lancedbUri, { recursive: true, force: true });
  deps = createDeps(config);
  const input: IngestInput = { collection: 'extractor_crash', sources: [{ type: 'folder', id: 'notes', path: dir }] } as IngestInput;
  result = await withWorker(config, createActivities(deps), async ({ client, taskQueue }) =>
    client.workflow.execute('ingest', { taskQueue, workflowId: `ingest-extractor-crash-${taskQueue}`, args: [input] }),
  );
}, 300_000);

afterAll(async () => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(config.vectorStore.lancedbUri, { recursive: true, force: true });
});

describe('a page that crashes the HTML extractor', () => {
  it('is dropped with extraction_failed and the error, and the other documents of its part are loaded', async () => {
    expect(result.documents).toMatchObject({ fetched: 3, cleaned: 2, loaded: 2, dropped: { extraction_failed: 1 } });
    const issue = result.sources[0]!.issues.find((i) => i.location === pathToFileURL(path.join(dir, 'c-broken-export.html')).href);
    // Refused before Readability runs (it would overflow the stack here, and take minutes on a few thousand levels).
    expect(issue).toMatchObject({ kind: 'dropped', reason: 'extraction_failed' });
    expect(issue!.detail).toMatch(/^html extraction failed: the page nests elements more than 1000 levels deep/);
    expect(result.chunks).toBeGreaterThan(0);
    const store = await deps.vectorStore();
    expect(await store.count('extractor_crash')).toBe(result.chunks);
  });
});
