import { describe, expect, it } from 'vitest';
import { diffSource, failedEntirely } from '../../../activities/sync/diff';
import type { StateEntry } from '../../../lib/schemas/sync';

const e = (docId: string, contentHash: string, location = `file:///${docId}`): StateEntry => ({ docId, contentHash, location });

describe('diffSource', () => {
  it('sorts documents into inserted, updated, deleted and unchanged, and gives the next state', () => {
    const previous = [e('a', '1'), e('b', '1'), e('c', '1')];
    const current = [e('a', '1'), e('b', '2'), e('d', '1')];
    const d = diffSource(previous, current);
    expect(d.inserted.map((x) => x.docId)).toEqual(['d']);
    expect(d.updated).toEqual([e('b', '2')]);
    expect(d.deleted.map((x) => x.docId)).toEqual(['c']);
    expect(d.unchanged).toBe(1);
    expect(d.retained).toBe(0);
    expect(d.next.map((x) => `${x.docId}:${x.contentHash}`).sort()).toEqual(['a:1', 'b:2', 'd:1']);
  });

  it('treats everything as inserted when there is no previous state, and everything as deleted when the source is empty', () => {
    expect(diffSource([], [e('a', '1'), e('b', '1')]).inserted).toHaveLength(2);
    const gone = diffSource([e('a', '1'), e('b', '1')], []);
    expect(gone.deleted).toHaveLength(2);
    expect(gone.next).toEqual([]);
  });

  it('keeps a document whose location failed to read this time instead of deleting it', () => {
    const d = diffSource([e('a', '1', 'https://x/a'), e('b', '1', 'https://x/b')], [e('a', '1', 'https://x/a')], { failedLocations: new Set(['https://x/b']) });
    expect(d.deleted).toEqual([]);
    expect(d.retained).toBe(1);
    expect(d.next.map((x) => x.docId).sort()).toEqual(['a', 'b']);
  });

  it('with a scope (push), considers only the scoped documents and carries the others over untouched', () => {
    const previous = [e('a', '1'), e('b', '1'), e('c', '1')];
    // An event named b (now changed) and c (now gone); a was not named and is absent from this partial crawl.
    const d = diffSource(previous, [e('b', '2')], { scope: new Set(['b', 'c']) });
    expect(d.updated.map((x) => x.docId)).toEqual(['b']);
    expect(d.deleted.map((x) => x.docId)).toEqual(['c']);
    expect(d.unchanged).toBe(0);
    expect(d.next.map((x) => `${x.docId}:${x.contentHash}`).sort()).toEqual(['a:1', 'b:2']);
  });
});

describe('failedEntirely', () => {
  it('is an outage when nothing was fetched, something failed, and there were documents before', () => {
    expect(failedEntirely(0, { network_error: 3 }, 10)).toBe(true);
    expect(failedEntirely(0, { not_found: 1 }, 10)).toBe(true);
  });
  it('is not an outage when some documents came, when nothing failed, or when there was nothing to lose', () => {
    expect(failedEntirely(5, { network_error: 3 }, 10)).toBe(false);
    expect(failedEntirely(0, {}, 10)).toBe(false);
    expect(failedEntirely(0, { network_error: 1 }, 0)).toBe(false);
  });
});
