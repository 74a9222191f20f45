/**
 * The git source: a shallow clone (`git clone --depth 1 --single-branch`) into a temporary folder that is removed
 * afterwards, then one outcome per file of the commit in path order. Files come from `git ls-tree`, which gives
 * modes and sizes without reading anything: symlinks and submodules are never followed, big files never read.
 *
 * A network remote's host is resolved and checked against the worker's network policy before git runs, and git's
 * connection is pinned to the checked addresses (curl's resolve list for http(s), ssh's HostName for ssh), so git
 * cannot resolve the name again to another address. git follows no HTTP redirect (http.followRedirects=false): a
 * redirect's target would reach an unchecked host.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config';
import { docIdFor } from '../hash';
import type { RawDocument } from '../schemas/documents';
import type { GitSourceConfig } from '../schemas/sources';
import { retry } from '../retry';
import { checkGitUrl, type ResourcePolicy } from '../security/resources';
import { contentTypeOf, isProse, languageOf } from './file-types';
import { type GitRemote, parseGitRemote, redactUrl } from './git-remote';
import { networkPolicyFromEnv } from '../security/net-fetch';
import { NetworkRefusedError, type NetworkPolicy } from '../security/network';
import { pathFilter } from './path-filter';
import { executePlan, type PlanItem } from './plan';
import { decodeText, looksBinary } from './text-decoding';
import { type CrawlOptions, type CrawlOutcome, type CrawlResult, report, type Source } from './types';

export interface GitSourceDeps {
  /** The git executable (default "git" on PATH). */
  gitBinary?: string;
  /** Where the temporary clone goes (default the OS temp folder). */
  tmpDir?: string;
  /**
   * Retries of a clone after a transient failure, one per entry (default [2000, 4000]). They set the shared retry
   * policy (lib/retry.ts): the first entry is its base delay and the largest its cap, so each wait is a jittered
   * one up to 2 s, then up to 4 s.
   */
  cloneRetryDelaysMs?: number[];
  /** Which addresses a network remote may be at (default: this process's TWINFLOW_ALLOW_NETWORKS). */
  network?: NetworkPolicy;
  /** Which file:// repositories input may clone (default: the configuration of this process's environment). */
  resources?: ResourcePolicy;
}

/** How git is told to connect to a network remote: to the addresses the policy checked, and nowhere else. */
interface RemotePin {
  /** `-c` options before the subcommand. */
  config: string[];
  env: Record<string, string>;
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
        const reason = cloned.refused ? 'network_refused' : 'clone_failed';
        yield { ...report(this.remote.canonical, reason, cloned.error, { listing: true }), cursor: opts.resumeAfter || this.remote.canonical };
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

  private async cloneWithRetries(dir: string, signal?: AbortSignal): Promise<{ commit: string } | { error: string; refused?: boolean }> {
    const delays = this.deps.cloneRetryDelaysMs ?? [2000, 4000];
    const policy = { attempts: delays.length + 1, baseDelayMs: delays[0] ?? 0, maxDelayMs: Math.max(0, ...delays), maxRetryAfterMs: 0 };
    return retry(
      async (attempt) => {
        if (attempt > 1) {
          // git refuses to clone into a folder that a failed attempt left files in.
          await fs.rm(dir, { recursive: true, force: true });
          await fs.mkdir(dir, { recursive: true });
        }
        return this.clone(dir, signal);
      },
      { policy, shouldRetry: (o) => o.ok && 'error' in o.value && !o.value.permanent, signal },
    );
  }

  private async clone(dir: string, signal?: AbortSignal): Promise<{ commit: string } | { error: string; permanent: boolean; refused?: boolean }> {
    const pin = await this.pinRemote();
    if ('error' in pin) return pin;
    const args = [...pin.config, 'clone', '--depth', '1', '--single-branch', '--no-tags', '--quiet'];
    if (this.config.ref) args.push('--branch', this.config.ref);
    args.push('--', this.remote.cloneUrl, dir);
    try {
      await this.run(args, { timeout: this.config.cloneTimeoutMs, signal, env: pin.env });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      const e = err as ExecError;
      if (e.killed) return { error: `git clone of ${redactUrl(this.config.url)} did not finish within ${this.config.cloneTimeoutMs} ms`, permanent: false };
      const stderr = (e.stderr ?? e.message).trim();
      const ref = this.config.ref ? ` (ref ${this.config.ref})` : '';
      const redirect = /returned error: 30[1278]\b/.test(stderr)
        ? ' (the server answered with a redirect, which this worker does not follow: its target would not be checked against TWINFLOW_ALLOW_NETWORKS; use the final URL of the repository)'
        : '';
      return { error: `git clone of ${redactUrl(this.config.url)}${ref} failed: ${redactUrl(lastLines(stderr))}${redirect}`, permanent: redirect !== '' || PERMANENT_CLONE_ERROR.test(stderr) };
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

  /**
   * Resolves a network remote's host and checks its addresses against the network policy, then pins git to them.
   * A refusal is permanent; a name that does not resolve is transient (DNS may be down), as git's own is.
   */
  private async pinRemote(): Promise<RemotePin | { error: string; permanent: boolean; refused?: boolean }> {
    const target = networkTarget(this.remote.cloneUrl);
    if (!target) return { config: [], env: {} }; // file://: no network (the resource policy decides)
    const policy = this.deps.network ?? networkPolicyFromEnv();
    const http = target.scheme === 'http:' || target.scheme === 'https:';
    const noRedirects = http ? ['-c', 'http.followRedirects=false'] : [];
    // A host allowed by name is reached however it resolves (a proxy, an ssh alias): nothing to pin.
    if (policy.hostAllowed(target.host)) return { config: noRedirects, env: {} };
    let addresses: string[];
    try {
      addresses = (await policy.resolve(target.host)).map((a) => a.address);
    } catch (err) {
      if (err instanceof NetworkRefusedError) {
        return { error: `git clone of ${redactUrl(this.config.url)} refused: ${err.message}`, permanent: true, refused: true };
      }
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      return { error: `git clone of ${redactUrl(this.config.url)} failed: Could not resolve host: ${target.host} (${code})`, permanent: false };
    }
    if (target.literal) return { config: noRedirects, env: {} };
    if (http) {
      const list = addresses.map((a) => (a.includes(':') ? `[${a}]` : a)).join(',');
      return { config: [...noRedirects, '-c', `http.curloptResolve=${target.host}:${target.port}:${list}`], env: {} };
    }
    // ssh: connect to the checked address, but check the host key under the host's own name.
    const ssh = process.env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes';
    return { config: [], env: { GIT_SSH_COMMAND: `${ssh} -o HostName=${addresses[0]} -o HostKeyAlias=${target.host}` } };
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

  private run(args: string[], opts: { timeout?: number; signal?: AbortSignal; env?: Record<string, string> }): Promise<string> {
    const env = {
      ...process.env,
      GIT_TERMINAL_PROMPT: '0', // fail instead of asking for a password on a worker
      GIT_ALLOW_PROTOCOL: 'https:http:ssh:file:git',
      GIT_LFS_SKIP_SMUDGE: '1',
      GIT_SSH_COMMAND: process.env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
      LC_ALL: 'C', // English messages, which the permanent/transient classification reads
      ...opts.env,
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

/** The host a network remote's connection goes to (undefined for file://). */
function networkTarget(cloneUrl: string): { scheme: string; host: string; port: number; literal: boolean } | undefined {
  const scp = /^[A-Za-z0-9._-]+@([A-Za-z0-9.-]+):/.exec(cloneUrl);
  if (scp && !cloneUrl.includes('://')) return { scheme: 'ssh:', host: scp[1]!.toLowerCase(), port: 22, literal: isIP(scp[1]!) !== 0 };
  const u = new URL(cloneUrl);
  if (u.protocol === 'file:') return undefined;
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = u.port ? Number(u.port) : (({ 'https:': 443, 'http:': 80, 'ssh:': 22, 'git:': 9418 } as Record<string, number>)[u.protocol] ?? 0);
  return { scheme: u.protocol, host, port, literal: isIP(host) !== 0 };
}

function lastLines(s: string): string {
  return s.split('\n').slice(-3).join(' ').trim();
}
