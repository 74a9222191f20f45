/**
 * The sync input extends the ingest input's base: every ingest input is a sync input with the same defaults, both
 * refuse the same things with the same messages, and sync's own fields stay sync's.
 */
import { describe, expect, it } from 'vitest';
import { ingestInputSchema } from '../../../lib/schemas/ingest';
import { syncInputSchema } from '../../../lib/schemas/sync';

const folder = (id: string) => ({ type: 'folder' as const, id, path: `/data/${id}` });
const messages = (r: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }) =>
  (r.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);

describe('pipeline inputs', () => {
  it('reads an ingest input as a sync input with the same values and defaults', () => {
    const input = { collection: 'notes', sources: [folder('a')], partSize: 7 };
    const ingest = ingestInputSchema.parse(input);
    const sync = syncInputSchema.parse(input);
    expect(sync).toEqual({ ...ingest, deletionGuard: { maxShare: 0.2, minDocuments: 3 }, allowMassDeletion: false });
  });

  it('refuses duplicate source ids, unknown keys and bad shared fields with the same messages', () => {
    for (const bad of [
      { sources: [folder('a'), folder('a')] },
      { sources: [folder('a')], colection: 'typo' },
      { sources: [], collection: 'Bad Name' },
      { sources: [folder('a')], chunking: { chunkTokens: 32, overlapTokens: 40 } },
    ]) {
      const ingest = messages(ingestInputSchema.safeParse(bad));
      expect(ingest.length).toBeGreaterThan(0);
      expect(messages(syncInputSchema.safeParse(bad))).toEqual(ingest);
    }
    expect(messages(syncInputSchema.safeParse({ sources: [folder('a'), folder('a')] }))).toEqual(['sources.1.id: duplicate source id "a"']);
  });

  it('keeps sync-only fields out of ingest', () => {
    expect(messages(ingestInputSchema.safeParse({ sources: [folder('a')], allowMassDeletion: true }))).toEqual([': Unrecognized key: "allowMassDeletion"']);
    expect(messages(syncInputSchema.safeParse({ sources: [folder('a')], only: [{ sourceId: 'b' }] }))).toEqual(['only.0.sourceId: no source with id "b" in sources']);
  });
});
