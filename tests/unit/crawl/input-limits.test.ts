/**
 * Ingest input with numbers out of range (negative, zero, fractional or huge limits, sizes and counts) and misspelt
 * keys: the workflow's own validation (parseInput, which the ingest and sync workflows call before any activity)
 * refuses them with one message naming every bad field, instead of crawling with a nonsense limit.
 */
import { describe, expect, it } from 'vitest';
import { ingestInputSchema } from '../../../lib/schemas/ingest';
import { sourceConfigSchema } from '../../../lib/schemas/sources';
import { InputValidationError, parseInput } from '../../../lib/schemas/validate';

const web = { type: 'web', id: 'blog', urls: ['https://example.com/'] };
const folder = { type: 'folder', id: 'notes', path: '/tmp/notes' };

function problem(input: Record<string, unknown>): string {
  try {
    parseInput(ingestInputSchema, input, 'ingest');
  } catch (err) {
    expect(err).toBeInstanceOf(InputValidationError);
    return (err as Error).message;
  }
  throw new Error(`accepted: ${JSON.stringify(input)}`);
}

describe('ingest input: numbers out of range', () => {
  it.each([
    [{ ...web, maxPages: -5 }, 'sources.0.maxPages'],
    [{ ...web, maxPages: 2.5 }, 'sources.0.maxPages'],
    [{ ...web, perHostConcurrency: 1000 }, 'sources.0.perHostConcurrency'],
    [{ ...web, perHostRps: 0 }, 'sources.0.perHostRps'],
    [{ ...web, maxRedirects: 50 }, 'sources.0.maxRedirects'],
    [{ ...web, timeoutMs: -1 }, 'sources.0.timeoutMs'],
    [{ ...web, retry: { attempts: 0 } }, 'sources.0.retry.attempts'],
    [{ ...web, retry: { attempts: 100 } }, 'sources.0.retry.attempts'],
    [{ ...web, maxSitemapDepth: 99 }, 'sources.0.maxSitemapDepth'],
    [{ ...folder, maxFileBytes: 0 }, 'sources.0.maxFileBytes'],
  ])('a source with %j is refused, naming %s', (source, field) => {
    expect(problem({ collection: 'notes', sources: [source] })).toMatch(new RegExp(`^invalid ingest input: ${field.replace(/\./g, '\\.')}: `));
  });

  it.each([
    [{ partSize: 0 }, 'partSize'],
    [{ partSize: 1_000_000 }, 'partSize'],
    [{ concurrency: -1 }, 'concurrency'],
    [{ concurrency: 10_000 }, 'concurrency'],
    [{ chunking: { chunkTokens: 1_000_000 } }, 'chunking.chunkTokens'],
    [{ chunking: { chunkTokens: 64, overlapTokens: 64 } }, 'chunking.overlapTokens'],
    [{ chunking: { chunkTokens: 256, parentTokens: 128 } }, 'chunking.parentTokens'],
    [{ cleaning: { minChars: -10 } }, 'cleaning.minChars'],
  ])('a run setting %j is refused, naming %s', (settings, field) => {
    expect(problem({ collection: 'notes', sources: [folder], ...settings })).toContain(`${field}: `);
  });

  it('names every bad field at once, and a misspelt key', () => {
    const msg = problem({ collection: 'notes', sources: [{ ...web, maxPage: 10 }], partSize: -1, chunkign: {} });
    expect(msg).toContain('partSize: ');
    expect(msg).toMatch(/Unrecognized key: "chunkign"/);
    expect(msg).toMatch(/Unrecognized key: "maxPage"/);
  });
});

describe('byte limits', () => {
  it('refuse a body or file limit over 100 MiB (a document is held in memory whole)', () => {
    const web = sourceConfigSchema.safeParse({ type: 'web', id: 'w', urls: ['https://example.com/'], maxBytes: 1e12 });
    expect(web.success).toBe(false);
    expect(web.error!.issues[0]!.message).toMatch(/at most 104857600 bytes \(100 MiB\)/);
    expect(sourceConfigSchema.safeParse({ type: 'folder', id: 'f', path: '/tmp', maxFileBytes: 200 * 1024 * 1024 }).success).toBe(false);
    expect(sourceConfigSchema.safeParse({ type: 'web', id: 'w', urls: ['https://example.com/'], maxBytes: 100 * 1024 * 1024 }).success).toBe(true);
  });
});
