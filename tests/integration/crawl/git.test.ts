/** The git source against real repositories that the test makes with the git CLI (cloned over file://). */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSource } from '../../../lib/crawl';
import { parseGitRemote } from '../../../lib/crawl/git-remote';
import { docIdFor } from '../../../lib/hash';
import { crawlAll } from './helpers';

let work: string;
let repoDir: string;
let repoUrl: string;
let mainCommit: string;

function git(args: string[], cwd = repoDir): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@x', GIT_CONFIG_GLOBAL: '/dev/null' },
  }).trim();
}

function write(rel: string, content: string | Buffer): void {
  const abs = path.join(repoDir, rel);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, content);
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-git-test-'));
  repoDir = path.join(work, 'my-project');
  fs.mkdirSync(repoDir);
  git(['init', '-q', '-b', 'main']);
  write('README.md', '# My project\n\nIt does things.\n');
  write('src/app.py', 'def main():\n    return 42\n');
  write('src/util.ts', 'export const x = 1;\n');
  write('src/z-last.go', 'package main\n');
  write('docs/guide.md', '## Guide\n');
  write('logo.png', Buffer.from('89504e470d0a1a0a', 'hex')); // not in the include globs: ignored without a report
  write('data/blob.txt', Buffer.from([0x68, 0x69, 0x00, 0x01, 0x02])); // a .txt that is binary
  write('big.md', `# Big\n${'x'.repeat(3000)}\n`);
  write('node_modules/left-pad/index.js', 'module.exports = 1;\n');
  write('node_modules/left-pad/README.md', '# left-pad\n');
  write('web/app.min.js', 'var a=1;\n');
  write('package-lock.json', '{}\n'); // .json is not in the include globs: ignored without a report
  write('pnpm-lock.yaml', 'lockfileVersion: 9\n'); // .yaml is, but lock files are excluded
  fs.symlinkSync('/etc/passwd', path.join(repoDir, 'passwd.txt'));
  git(['add', '-A']);
  git(['commit', '-q', '-m', 'first']);
  git(['tag', 'v1']);
  write('CHANGELOG.md', '# Changes\n\n- v2\n');
  git(['add', '-A']);
  git(['commit', '-q', '-m', 'second']);
  mainCommit = git(['rev-parse', 'HEAD']);
  repoUrl = pathToFileURL(repoDir).href;
});

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

function source(extra: Record<string, unknown> = {}) {
  return createSource({ type: 'git', id: 'repo', url: repoUrl, maxFileBytes: 2000, ...extra }, { git: { tmpDir: work, cloneRetryDelaysMs: [] } });
}

describe('git source', () => {
  it('yields the default-branch files in path order and reports what it leaves out', async () => {
    const { docs, reports, outcomes } = await crawlAll(source());
    const loc = (p: string) => `${repoUrl}#${p}`;
    expect(docs.map((d) => d.path)).toEqual(['CHANGELOG.md', 'README.md', 'docs/guide.md', 'src/app.py', 'src/util.ts', 'src/z-last.go']);
    expect(outcomes.map((o) => o.cursor)).toEqual([...outcomes.map((o) => o.cursor)].sort());

    const py = docs.find((d) => d.path === 'src/app.py')!;
    expect(py).toMatchObject({
      docId: docIdFor(loc('src/app.py')),
      location: loc('src/app.py'),
      sourceId: 'repo',
      sourceType: 'git',
      language: 'python',
      contentType: 'text/x-source',
      title: 'src/app.py',
      body: 'def main():\n    return 42\n',
      metadata: { commit: mainCommit, repo: repoUrl, path: 'src/app.py' },
    });
    expect(py.url).toBeUndefined(); // no browsable URL for a local repository
    expect(docs.find((d) => d.path === 'README.md')).toMatchObject({ contentType: 'text/markdown', language: 'markdown' });

    const why = Object.fromEntries(reports.map((r) => [r.location.slice(repoUrl.length + 1), `${r.kind} ${r.reason}`]));
    expect(why).toEqual({
      'big.md': 'skipped too_large',
      'data/blob.txt': 'skipped binary',
      'node_modules/': 'skipped excluded',
      'pnpm-lock.yaml': 'skipped excluded',
      'passwd.txt': 'skipped unsupported',
      'web/app.min.js': 'skipped excluded',
    });
    expect(reports.find((r) => r.location === loc('node_modules/'))).toMatchObject({ count: 2 });
    // The temporary clone is gone.
    expect(fs.readdirSync(work).filter((n) => n.startsWith('twinflow-git-'))).toEqual([]);
  });

  it('clones a tag or branch given as ref', async () => {
    const { docs } = await crawlAll(source({ ref: 'v1' }));
    expect(docs.map((d) => d.path)).not.toContain('CHANGELOG.md');
    expect(docs[0]!.metadata).toMatchObject({ ref: 'v1' });
    expect(docs[0]!.metadata.commit).not.toBe(mainCommit);
  });

  it('reports a ref or repository that does not exist, once, without retrying forever', async () => {
    // Default retry delays (2 s, 4 s): a missing ref is a permanent failure, so none of them is waited for.
    const started = performance.now();
    const badRef = await crawlAll(createSource({ type: 'git', id: 'repo', url: repoUrl, ref: 'no-such-branch' }, { git: { tmpDir: work } }));
    expect(performance.now() - started).toBeLessThan(1900);
    expect(badRef.outcomes).toEqual([expect.objectContaining({ kind: 'failed', reason: 'clone_failed', location: repoUrl })]);
    expect(badRef.reports[0]!.detail).toMatch(/no-such-branch/);
    const missing = await crawlAll(createSource({ type: 'git', id: 'r', url: pathToFileURL(path.join(work, 'nope')).href }, { git: { cloneRetryDelaysMs: [] } }));
    expect(missing.reports[0]).toMatchObject({ reason: 'clone_failed' });
  });

  it('honours include/exclude overrides', async () => {
    const { docs, reports } = await crawlAll(source({ include: ['**/*.md'], exclude: ['docs/**'] }));
    expect(docs.map((d) => d.path)).toEqual(['CHANGELOG.md', 'README.md', 'node_modules/left-pad/README.md']);
    expect(reports.map((r) => `${r.location.slice(repoUrl.length + 1)} ${r.reason}`)).toEqual(['big.md too_large', 'docs/ excluded']);
  });

  it('resumes after a cursor', async () => {
    const first = await crawlAll(source());
    const cursor = first.outcomes[3]!.cursor;
    const second = await crawlAll(source(), { resumeAfter: cursor });
    expect(second.outcomes.map((o) => o.cursor)).toEqual(first.outcomes.slice(4).map((o) => o.cursor));
  });

  it('names documents by forge URL, browsable link and owner for hosted remotes', () => {
    const gh = parseGitRemote('https://user:token@GitHub.com/Alice/notes.git/');
    expect(gh.canonical).toBe('https://github.com/Alice/notes');
    expect(gh.owner).toBe('Alice');
    expect(gh.browseUrl!('abc123', 'docs/a b.md')).toBe('https://github.com/Alice/notes/blob/abc123/docs/a%20b.md');
    expect(parseGitRemote('git@github.com:Alice/notes.git').canonical).toBe('https://github.com/Alice/notes');
    expect(parseGitRemote('https://gitlab.com/grp/sub/proj').browseUrl!('c', 'x.py')).toBe('https://gitlab.com/grp/sub/proj/-/blob/c/x.py');
    expect(parseGitRemote('ssh://git@git.example.org/team/repo.git')).toMatchObject({ canonical: 'ssh://git.example.org/team/repo', owner: 'team' });
    expect(() => createSource({ type: 'git', id: 'r', url: '--upload-pack=evil' })).toThrow(/url: expected a git URL/);
  });
});
