import { describe, expect, it } from 'vitest';
import { diffSource, exceedsGuard, failedEntirely, holdByContent } from '../../../activities/sync/diff';
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
    const d = diffSource([e('a', '1', 'https://x/a'), e('b', '1', 'https://x/b')], [e('a', '1', 'https://x/a')], {
      reported: new Map([['https://x/b', { reason: 'network_error' }]]),
    });
    expect(d.deleted).toEqual([]);
    expect(d.retained).toBe(1);
    expect(d.keptBy).toEqual({ network_error: 1 });
    expect(d.next.map((x) => x.docId).sort()).toEqual(['a', 'b']);
  });

  it('deletes only on positive evidence: 404/410, exclusion, robots rules, or absence from a complete listing', () => {
    const previous = ['gone', 'excluded', 'robots', 'unavailable', 'challenge', 'short', 'limited', 'absent'].map((d) => e(d, '1', `https://x/${d}`));
    const reported = new Map([
      ['https://x/gone', { reason: 'not_found' }],
      ['https://x/excluded', { reason: 'excluded' }],
      ['https://x/robots', { reason: 'robots_disallowed' }],
      ['https://x/unavailable', { reason: 'robots_unavailable' }],
      ['https://x/challenge', { reason: 'bot_challenge' }],
      ['https://x/short', { reason: 'too_short' }],
      ['https://x/limited', { reason: 'http_error' }],
    ]);
    const complete = diffSource(previous, [], { reported, listingComplete: true });
    expect(complete.deleted.map((x) => x.docId).sort()).toEqual(['absent', 'excluded', 'gone', 'robots']);
    expect(complete.keptBy).toEqual({ robots_unavailable: 1, bot_challenge: 1, too_short: 1, http_error: 1 });

    // The same crawl with a listing that was cut short or unreadable: what it does not mention is kept.
    const partial = diffSource(previous, [], { reported, listingComplete: false });
    expect(partial.deleted.map((x) => x.docId).sort()).toEqual(['excluded', 'gone', 'robots']);
    expect(partial.keptBy.not_listed).toBe(1);
    expect(partial.next.map((x) => x.docId)).toContain('absent');
  });

  it('never lets a held document (a duplicate, converged content) replace or delete its stored version', () => {
    const previous = [e('a', '1'), e('b', '2')];
    // b now has a's content: it is a duplicate of a, and keeps its own stored version; a is untouched.
    const keep = new Map([
      ['a', { reason: 'duplicate' as const, contentHash: '1' }],
      ['b', { reason: 'duplicate' as const, contentHash: '1' }],
      ['n', { reason: 'same_content' as const, contentHash: '9' }],
    ]);
    const d = diffSource(previous, [e('a', '1'), e('n', '9')], { keep });
    expect(d.deleted).toEqual([]);
    expect(d.updated).toEqual([]);
    expect(d.inserted).toEqual([]); // n (new, but with converged content) is not inserted either
    expect(d.unchanged).toBe(1);
    expect(d.keptBy).toEqual({ duplicate: 1 });
    expect(d.next).toEqual([e('a', '1'), e('b', '2')]);
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

describe('holdByContent', () => {
  const m = (docId: string, contentHash: string, previousHash?: string, kept = true, sourceId = 'site') => ({ docId, sourceId, contentHash, previousHash, kept });
  const held = (members: ReturnType<typeof m>[]) => Object.fromEntries([...holdByContent(members)].map(([k, v]) => [k, v.reason]));

  it('holds every document of a content that two or more stored documents changed into', () => {
    expect(held([m('p1', 'wall', 'a'), m('p2', 'wall', 'b', false), m('new', 'wall', undefined, false), m('p3', 'c', 'c')])).toEqual({
      p1: 'same_content',
      p2: 'same_content',
      new: 'same_content',
    });
  });
  it('lets the document that already had the content keep it: the one that changed into it is the duplicate', () => {
    // The manifest met b first (it kept b), but a held that text before: b must not be overwritten with it.
    expect(held([m('b', 'x', 'y'), m('a', 'x', 'x', false)])).toEqual({ a: 'duplicate', b: 'duplicate' });
  });
  it("otherwise keeps the manifest's choice: new pages sharing content, one of them stored", () => {
    expect(held([m('n1', 'z'), m('n2', 'z', undefined, false)])).toEqual({ n2: 'duplicate' });
    expect(held([m('n1', 'z', 'old'), m('n2', 'z', undefined, false)])).toEqual({ n2: 'duplicate' });
    expect(held([m('solo', 'q', 'r')])).toEqual({});
  });
  it('compares within a source: one file edited in two sources that index it is an edit, not a convergence', () => {
    expect(held([m('repo-copy', 'v2', 'v1', true, 'repo'), m('folder-copy', 'v2', 'v1', true, 'folder')])).toEqual({});
  });
});

describe('exceedsGuard', () => {
  const guard = { maxShare: 0.2, minDocuments: 3 };
  it('holds a deletion of more than the share once it reaches the minimum count', () => {
    expect(exceedsGuard(5, 5, guard)).toBe(true);
    expect(exceedsGuard(3, 10, guard)).toBe(true);
  });
  it('lets small or proportionate deletions through', () => {
    expect(exceedsGuard(2, 2, guard)).toBe(false); // under the minimum count
    expect(exceedsGuard(20, 100, guard)).toBe(false); // exactly the share
    expect(exceedsGuard(0, 0, guard)).toBe(false);
  });
});
