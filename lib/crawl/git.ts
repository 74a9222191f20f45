/**
 * The git source: a shallow clone (`git clone --depth 1 --single-branch`) into a temporary folder that is removed
 * afterwards, then one outcome per file of the commit in path order. Files come from `git ls-tree`, which gives
 * modes and sizes without reading anything: symlinks and submodules are never followed, big files never read.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config';
import { docIdFor } from '../hash';
import type { RawDocument } from '../schemas/documents';
import type { GitSourceConfig } from '../schemas/sources';
import { checkGitUrl, type ResourcePolicy } from '../security/resources';
import { contentTypeOf, isProse, languageOf } from './file-types';
import { type GitRemote, parseGitRemote, redactUrl } from './git-remote';
import { pathFilter } from './path-filter';
import { executePlan, type PlanItem } from './plan';
import { sleep } from './sleep';
import { decodeText, looksBinary } from './text-decoding';
import { type CrawlOptions, type CrawlOutcome, type CrawlResult, report, type Source } from './types';

export interface GitSourceDeps {
  /** The git executable (default "git" on PATH). */
  gitBinary?: string;
  /** Where the temporary clone goes (default the OS temp folder). */
  tmpDir?: string;
  /** Waits between clone attempts after a transient failure (default 2 s, 4 s). */
  cloneRetryDelaysMs?: number[];
  /** Which file:// repositories input may clone (default: the configuration of this process's environment). */
  resources?: ResourcePolicy;
}

interface GitFile extends PlanItem {
  path: string;
  size: number;
}

/** Messages of failures that another attempt will not fix. */
const PERMANENT_CLONE_ERROR =
  /not found|does not exist|does not appear to be a git repository|authentication failed|could not read (username|password)|terminal prompts disabled|permission denied|couldn't find remote ref|not a valid|unsupported|transport '.*' not allowed/i;

export class GitSource implements Source {
  readonly id: string;
  private readonly remote: GitRemote;
  private readonly git: string;

  constructor(
    readonly config: GitSourceConfig,
    private readonly deps: GitSourceDeps = {},
  ) {
    this.id = config.id;
    this.remote = parseGitRemote(config.url);
    this.git = deps.gitBinary ?? 'git';
  }

  async *crawl(opts: CrawlOptions = {}): AsyncGenerator<CrawlOutcome> {
    // A file:// repository reads the worker's disk: only under TWINFLOW_ALLOW_PATHS (a listing failure otherwise).
    const allowed = checkGitUrl(this.deps.resources ?? loadConfig().resources, this.config.url);
    if (!allowed.allowed) {
      yield { ...report(this.remote.canonical, 'not_allowed', allowed.reason, { listing: true }), cursor: opts.resumeAfter || this.remote.canonical };
      return;
    }
    const dir = await fs.mkdtemp(path.join(this.deps.tmpDir ?? os.tmpdir(), 'twinflow-git-'));
    try {
      const cloned = await this.cloneWithRetries(dir, opts.signal);
      if ('error' in cloned) {
        // Reported whatever the cursor, so a retried crawl does not end quietly with half a repository.
        yield { ...report(this.remote.canonical, 'clone_failed', cloned.error, { listing: true }), cursor: opts.resumeAfter || this.remote.canonical };
        return;
      }
      const { items, reports } = await this.listFiles(dir, opts.signal);
      yield* executePlan(
        { items, reports, concurrency: 4, process: (file) => this.readFile(dir, cloned.commit, file) },
        opts,
      );
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  private async cloneWithRetries(dir: string, signal?: AbortSignal): Promise<{ commit: string } | { error: string }> {
    const delays = this.deps.cloneRetryDelaysMs ?? [2000, 4000];
    for (let attempt = 0; ; attempt++) {
      const result = await this.clone(dir, signal);
      if (!('error' in result) || result.permanent || attempt >= delays.length) return result;
      await fs.rm(dir, { recursive: true, force: true });
      await fs.mkdir(dir, { recursive: true });
      await sleep(delays[attempt]!, signal);
    }
  }

  private async clone(dir: string, signal?: AbortSignal): Promise<{ commit: string } | { error: string; permanent: boolean }> {
    const args = ['clone', '--depth', '1', '--single-branch', '--no-tags', '--quiet'];
    if (this.config.ref) args.push('--branch', this.config.ref);
    args.push('--', this.remote.cloneUrl, dir);
    try {
      await this.run(args, { timeout: this.config.cloneTimeoutMs, signal });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      const e = err as ExecError;
      if (e.killed) return { error: `git clone of ${redactUrl(this.config.url)} did not finish within ${this.config.cloneTimeoutMs} ms`, permanent: false };
      const stderr = (e.stderr ?? e.message).trim();
      const ref = this.config.ref ? ` (ref ${this.config.ref})` : '';
      return { error: `git clone of ${redactUrl(this.config.url)}${ref} failed: ${redactUrl(lastLines(stderr))}`, permanent: PERMANENT_CLONE_ERROR.test(stderr) };
    }
    // A repository without a commit clones "successfully" (git only warns); it has no HEAD to read.
    const head = await this.run(['-C', dir, 'rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], { signal }).catch((err: unknown) => {
      if (signal?.aborted) throw signal.reason;
      if ((err as { code?: unknown }).code === 1) return '';
      throw err;
    });
    const commit = head.trim();
    if (!commit) {
      // Over plain (dumb) HTTP, a web page where a repository was expected clones as an empty repository too.
      const http = /^https?:/i.test(this.remote.cloneUrl) ? ', or the URL is not a git repository (a web page answers like an empty one)' : '';
      return { error: `git clone of ${redactUrl(this.config.url)}: the repository is empty (it has no commit to read)${http}`, permanent: true };
    }
    return { commit };
  }

  /** The commit's files (sorted later by location), and reports for what is left out on purpose. */
  private async listFiles(dir: string, signal?: AbortSignal): Promise<{ items: GitFile[]; reports: CrawlResult[] }> {
    // --long adds the blob size; -z keeps paths unquoted. Lines: "<mode> <type> <sha> <size>\t<path>".
    const out = await this.run(['-C', dir, 'ls-tree', '-r', '-z', '--long', '--full-tree', 'HEAD'], { signal });
    const filter = pathFilter(this.config.include, this.config.exclude);
    const items: GitFile[] = [];
    const reports: CrawlResult[] = [];
    const excludedDirs = new Map<string, { pattern: string; files: number }>();
    for (const record of out.split('\0')) {
      const tab = record.indexOf('\t');
      if (tab < 0) continue;
      const [mode, type, , size] = record.slice(0, tab).trim().split(/\s+/);
      const rel = record.slice(tab + 1);
      const location = this.locationOf(rel);
      if (!filter.included(rel)) continue; // out of scope by type: not worth a report
      const ancestor = filter.excludedAncestor(rel);
      if (ancestor) {
        const d = excludedDirs.get(ancestor.dir) ?? { pattern: ancestor.pattern, files: 0 };
        d.files++;
        excludedDirs.set(ancestor.dir, d);
        continue;
      }
      const pattern = filter.excludedBy(rel);
      if (pattern) reports.push(report(location, 'excluded', `matches exclude pattern ${pattern}`));
      else if (type !== 'blob') reports.push(report(location, 'unsupported', `a ${type} (submodule), not a file`));
      else if (mode === '120000') reports.push(report(location, 'unsupported', 'a symbolic link (links are not followed)'));
      else items.push({ key: location, path: rel, size: Number(size) });
    }
    for (const [d, { pattern, files }] of excludedDirs) {
      reports.push(report(`${this.locationOf(d)}/`, 'excluded', `directory matches exclude pattern ${pattern} (${files} file(s) left out)`, { count: files }));
    }
    return { items, reports };
  }

  private async readFile(dir: string, commit: string, file: GitFile): Promise<CrawlResult> {
    const { maxFileBytes } = this.config;
    if (file.size > maxFileBytes) return report(file.key, 'too_large', `${file.size} bytes is over maxFileBytes=${maxFileBytes}`);
    let bytes: Uint8Array;
    try {
      bytes = await fs.readFile(path.join(dir, file.path));
    } catch (err) {
      return report(file.key, 'unreadable', (err as Error).message);
    }
    if (looksBinary(bytes)) return report(file.key, 'binary', 'contains NUL bytes');
    const language = languageOf(file.path);
    const doc: RawDocument = {
      docId: docIdFor(file.key),
      sourceId: this.id,
      sourceType: 'git',
      location: file.key,
      path: file.path,
      contentType: contentTypeOf(file.path),
      body: decodeText(bytes, { sniffDeclaration: false }).text,
      metadata: { repo: this.remote.canonical, commit, path: file.path, bytes: bytes.byteLength, ...(this.config.ref ? { ref: this.config.ref } : {}) },
    };
    const url = this.remote.browseUrl?.(commit, file.path);
    if (url) doc.url = url;
    if (language) doc.language = language;
    if (this.remote.owner) doc.author = this.remote.owner;
    if (!isProse(file.path)) doc.title = file.path; // code has no title of its own; prose gets one from its text later
    return { kind: 'document', doc };
  }

  private locationOf(rel: string): string {
    return `${this.remote.canonical}#${rel}`;
  }

  private run(args: string[], opts: { timeout?: number; signal?: AbortSignal }): Promise<string> {
    const env = {
      ...process.env,
      GIT_TERMINAL_PROMPT: '0', // fail instead of asking for a password on a worker
      GIT_ALLOW_PROTOCOL: 'https:http:ssh:file:git',
      GIT_LFS_SKIP_SMUDGE: '1',
      GIT_SSH_COMMAND: process.env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
      LC_ALL: 'C', // English messages, which the permanent/transient classification reads
    };
    return new Promise((resolve, reject) => {
      execFile(this.git, args, { env, timeout: opts.timeout, signal: opts.signal, maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err) reject(Object.assign(err, { stderr }));
        else resolve(stdout);
      });
    });
  }
}

type ExecError = Error & { killed?: boolean; stderr?: string };

function lastLines(s: string): string {
  return s.split('\n').slice(-3).join(' ').trim();
}
