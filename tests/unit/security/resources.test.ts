/**
 * The worker's resource policy (lib/security/resources.ts) on a real file system: roots, symbolic links out of a
 * root, `..`, buckets and prefixes, file:// git URLs, record URIs; the configuration's defaults and errors; and the
 * sources that report a refusal as a listing failure (a sync deletes nothing: diffAgainstStore keeps every document).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffSource } from '../../../activities/sync/diff';
import { RecordsNotAllowedError, readSourceText } from '../../../activities/dataset/records';
import type { ArtifactStore } from '../../../lib/artifacts';
import { loadConfig } from '../../../lib/config';
import { createSource, type CrawlOutcome } from '../../../lib/crawl';
import { GONE_REASONS } from '../../../lib/crawl/types';
import { checkBucket, checkGitUrl, checkLocalPath, checkRecordsUri, type ResourcePolicy, withAllowedPaths } from '../../../lib/security/resources';

let tmp: string;
let allowed: string;
let outside: string;
let policy: ResourcePolicy;

beforeAll(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-resources-')));
  allowed = path.join(tmp, 'allowed');
  outside = path.join(tmp, 'outside');
  fs.mkdirSync(path.join(allowed, 'notes'), { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(allowed, 'notes', 'a.md'), '# A\n\nallowed text\n');
  fs.writeFileSync(path.join(outside, 'secret.md'), '# Secret\n\nnot for input\n');
  fs.writeFileSync(path.join(outside, 'records.jsonl'), '{"id":1}\n');
  // A link inside the allowed root that leads out of it, and one that stays inside.
  fs.symlinkSync(outside, path.join(allowed, 'escape'));
  fs.symlinkSync(path.join(allowed, 'notes'), path.join(allowed, 'inner'));
  policy = { paths: [allowed], buckets: [{ bucket: 'docs', prefix: '' }, { bucket: 'shared', prefix: 'inbox/' }] };
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function crawlAll(source: ReturnType<typeof createSource>): Promise<CrawlOutcome[]> {
  const out: CrawlOutcome[] = [];
  for await (const o of source.crawl()) out.push(o);
  return out;
}

describe('local paths', () => {
  it('allows a root, what is under it and a link that stays inside', () => {
    expect(checkLocalPath(policy, allowed, 'p').allowed).toBe(true);
    expect(checkLocalPath(policy, path.join(allowed, 'notes', 'a.md'), 'p').allowed).toBe(true);
    expect(checkLocalPath(policy, path.join(allowed, 'inner'), 'p')).toEqual({ allowed: true, realPath: path.join(allowed, 'notes') });
    // Missing under a root: allowed (the source then reports not_found), judged where it would really be.
    expect(checkLocalPath(policy, path.join(allowed, 'nope', 'x.md'), 'p').allowed).toBe(true);
  });

  it('refuses paths outside, links out of a root, .. tricks and sibling prefixes, naming the setting', () => {
    const refused = (p: string) => {
      const v = checkLocalPath(policy, p, 'folder source path');
      expect(v.allowed).toBe(false);
      return v.allowed ? '' : v.reason;
    };
    expect(refused(outside)).toMatch(/^folder source path .*outside is outside the paths this worker allows \(TWINFLOW_ALLOW_PATHS: .*allowed\); add it to TWINFLOW_ALLOW_PATHS/);
    expect(refused(path.join(allowed, 'escape'))).toMatch(/escape \(really .*outside\) is outside/);
    expect(refused(path.join(allowed, 'escape', 'secret.md'))).toMatch(/really .*outside\/secret\.md/);
    expect(refused(`${allowed}/../outside/secret.md`)).toMatch(/outside/);
    expect(refused(`${allowed}-other`)).toMatch(/outside the paths/); // "/x/allowed-other" is not under "/x/allowed"
    expect(refused('/etc/passwd')).toMatch(/\/etc\/passwd/);
    expect(refused('a\0b')).toMatch(/NUL/);
    expect(checkLocalPath({ paths: [], buckets: [] }, allowed, 'p')).toMatchObject({ allowed: false, reason: expect.stringMatching(/TWINFLOW_ALLOW_PATHS: none/) });
  });

  it('a root that is itself a link is compared by its real path', () => {
    const linkRoot = path.join(tmp, 'link-root');
    fs.symlinkSync(allowed, linkRoot);
    expect(checkLocalPath({ paths: [linkRoot], buckets: [] }, path.join(allowed, 'notes'), 'p').allowed).toBe(true);
    expect(checkLocalPath({ paths: [linkRoot], buckets: [] }, path.join(linkRoot, 'escape'), 'p').allowed).toBe(false);
  });

  it('file:// git repositories only under the roots; network URLs are not this policy’s', () => {
    expect(checkGitUrl(policy, pathToFileURL(path.join(allowed, 'notes')).href).allowed).toBe(true);
    expect(checkGitUrl(policy, pathToFileURL(outside).href)).toMatchObject({ allowed: false, reason: expect.stringMatching(/^git source file:\/\/ repository .* TWINFLOW_ALLOW_PATHS/) });
    expect(checkGitUrl(policy, 'https://github.com/o/r').allowed).toBe(true);
  });

  it('records: local paths, file:// URLs and s3:// URIs', () => {
    expect(checkRecordsUri(policy, path.join(allowed, 'notes', 'a.md')).allowed).toBe(true);
    expect(checkRecordsUri(policy, pathToFileURL(path.join(outside, 'records.jsonl')).href)).toMatchObject({ allowed: false, reason: expect.stringMatching(/^dataset records path/) });
    expect(checkRecordsUri(policy, 's3://docs/datasets/r.jsonl').allowed).toBe(true);
    expect(checkRecordsUri(policy, 's3://other/r.jsonl')).toMatchObject({ allowed: false, reason: expect.stringMatching(/TWINFLOW_ALLOW_BUCKETS/) });
  });

  it('readSourceText refuses before reading, as a RecordsError (not retried)', async () => {
    const artifacts = { getBytes: () => Promise.reject(new Error('must not be called')) } as unknown as ArtifactStore;
    await expect(readSourceText(path.join(outside, 'records.jsonl'), artifacts, policy)).rejects.toThrow(RecordsNotAllowedError);
    await expect(readSourceText('s3://elsewhere/r.jsonl', artifacts, policy)).rejects.toThrow(/source.uri: s3:\/\/elsewhere\/r.jsonl is outside the buckets/);
    const ok = path.join(allowed, 'notes', 'a.md');
    expect((await readSourceText(ok, artifacts, policy)).toString()).toContain('allowed text');
    expect(withAllowedPaths({ resources: policy }, [outside]).resources.paths).toEqual([allowed, outside]);
  });
});

describe('buckets', () => {
  it('a bucket entry covers every prefix; a bucket/prefix entry only its prefix', () => {
    expect(checkBucket(policy, 'docs', 'anything/').allowed).toBe(true);
    expect(checkBucket(policy, 'shared', 'inbox/team/').allowed).toBe(true);
    const v = checkBucket(policy, 'shared', 'private/');
    expect(v).toMatchObject({ allowed: false, reason: expect.stringMatching(/^s3:\/\/shared\/private\/ is outside the buckets this worker allows \(TWINFLOW_ALLOW_BUCKETS: docs, shared\/inbox\/\); add "shared"/) });
    expect(checkBucket(policy, 'other', 'inbox/').allowed).toBe(false);
  });
});

describe('configuration', () => {
  const base = { TWINFLOW_HOME: '/srv/twinflow' };
  it('defaults: the data folder of TWINFLOW_HOME and the artifact bucket only', () => {
    const c = loadConfig(base);
    expect(c.resources.paths).toEqual(['/srv/twinflow/data']);
    expect(c.resources.buckets).toEqual([{ bucket: 'twinflow', prefix: '' }]);
    expect(c.llm.apiKeys).toEqual([]);
    // The inbox of another bucket that the push path is wired to is the worker's own too.
    expect(loadConfig({ ...base, TWINFLOW_NOTIFY_PREFIXES: 'inbox/,shared:team/' }).resources.buckets).toEqual([
      { bucket: 'twinflow', prefix: '' },
      { bucket: 'shared', prefix: 'team/' },
    ]);
  });

  it('parses the lists and names the variable of a bad entry', () => {
    const c = loadConfig({ ...base, TWINFLOW_ALLOW_PATHS: '/data/notes, relative/dir', TWINFLOW_ALLOW_BUCKETS: 'docs, shared/inbox/' });
    expect(c.resources.paths).toEqual(['/data/notes', path.resolve('relative/dir')]);
    expect(c.resources.buckets).toEqual([{ bucket: 'docs', prefix: '' }, { bucket: 'shared', prefix: 'inbox/' }]);
    expect(() => loadConfig({ ...base, TWINFLOW_ALLOW_BUCKETS: 'Bad_Bucket' })).toThrow(/^Invalid configuration: TWINFLOW_ALLOW_BUCKETS: .*"Bad_Bucket" is not an S3 bucket name, got "Bad_Bucket"$/);
    // An empty value means unset (the default), as for every variable.
    expect(loadConfig({ ...base, TWINFLOW_ALLOW_PATHS: '' }).resources.paths).toEqual(['/srv/twinflow/data']);
  });
});

describe('sources refuse what the worker does not allow, as a listing failure', () => {
  it('folder: the folder outside the roots, and a link out of a root, read nothing', async () => {
    for (const p of [outside, path.join(allowed, 'escape')]) {
      const out = await crawlAll(createSource({ type: 'folder', id: 'f', path: p }, { resources: policy }));
      expect(out).toHaveLength(1);
      expect(out[0]).toMatchObject({ kind: 'failed', reason: 'not_allowed', listing: true, detail: expect.stringMatching(/TWINFLOW_ALLOW_PATHS/) });
    }
    const ok = await crawlAll(createSource({ type: 'folder', id: 'f', path: allowed }, { resources: policy }));
    expect(ok.filter((o) => o.kind === 'document').map((o) => (o.kind === 'document' ? o.doc.metadata.relativePath : ''))).toEqual(['notes/a.md']);
    // The link out of the root is still reported from inside the walk, and its target never read.
    expect(ok.find((o) => o.kind !== 'document' && o.reason === 'outside_root')).toBeDefined();
  });

  it('git: a file:// repository outside the roots is not cloned', async () => {
    const out = await crawlAll(createSource({ type: 'git', id: 'g', url: pathToFileURL(outside).href }, { resources: policy }));
    expect(out).toEqual([expect.objectContaining({ kind: 'failed', reason: 'not_allowed', listing: true, detail: expect.stringMatching(/TWINFLOW_ALLOW_PATHS/) })]);
  });

  it('s3: a bucket or prefix outside the allowed ones is not listed (the client is never called)', async () => {
    const client = { send: () => Promise.reject(new Error('must not be called')) } as never;
    const out = await crawlAll(createSource({ type: 's3', id: 's', bucket: 'shared', prefix: 'private/' }, { s3: { client, defaultBucket: 'docs' }, resources: policy }));
    expect(out).toEqual([expect.objectContaining({ kind: 'failed', reason: 'not_allowed', listing: true, location: 's3://shared/private/' })]);
  });

  it('without a policy, a source follows this process’s configuration', async () => {
    const saved = process.env.TWINFLOW_ALLOW_PATHS;
    process.env.TWINFLOW_ALLOW_PATHS = allowed;
    try {
      const out = await crawlAll(createSource({ type: 'folder', id: 'f', path: outside }));
      expect(out[0]).toMatchObject({ reason: 'not_allowed' });
    } finally {
      if (saved === undefined) delete process.env.TWINFLOW_ALLOW_PATHS;
      else process.env.TWINFLOW_ALLOW_PATHS = saved;
    }
  });

  it('a refusal is no evidence of deletion: a sync keeps every stored document', () => {
    expect(GONE_REASONS.has('not_allowed')).toBe(false);
    const location = pathToFileURL(path.join(outside, 'secret.md')).href;
    const stored = [{ docId: 'd1', location, contentHash: 'h1' }] as never[];
    // As the crawl activity hands it on: the refusal is a report on the folder and a gap in the listing.
    const reported = new Map([[pathToFileURL(outside).href, { reason: 'not_allowed' }]]);
    const diff = diffSource(stored, [], { reported, listingComplete: false, listingGap: 'not allowed' });
    expect(diff.retained).toBe(1);
    // A push that named the document's key: kept too.
    expect(diffSource(stored, [], { reported, listingComplete: false, scope: new Set(['d1']) }).deleted).toEqual([]);
    expect(diff.deleted).toEqual([]);
  });
});
