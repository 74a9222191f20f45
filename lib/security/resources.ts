/**
 * What a worker lets workflow input read of its own machine and storage: local folders and files (folder sources,
 * dataset record paths, `file://` git repositories) only under the roots of TWINFLOW_ALLOW_PATHS, S3 sources only in
 * the buckets (and prefixes) of TWINFLOW_ALLOW_BUCKETS. Anyone who can start a workflow picks these paths and
 * buckets; the worker reads them with its own file permissions and credentials, so the worker's configuration, never
 * the input, decides what is reachable.
 *
 * Paths are compared after resolving symbolic links (realpath) on both sides, so a link out of a root and `..`
 * segments lead nowhere. Every refusal names the setting that would allow it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface AllowedBucket {
  bucket: string;
  /** Keys must start with this ('' for the whole bucket). */
  prefix: string;
}

export interface ResourcePolicy {
  /** Absolute roots (folders, or single files) under which local paths may be read. */
  paths: readonly string[];
  buckets: readonly AllowedBucket[];
}

export type Verdict = { allowed: true; realPath: string } | { allowed: false; reason: string };

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** TWINFLOW_ALLOW_PATHS: comma-separated absolute paths (or relative to `base`). Throws a message without the name. */
export function parseAllowPaths(value: string, base: string): string[] {
  return value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => path.resolve(base, p));
}

/** TWINFLOW_ALLOW_BUCKETS: comma-separated `bucket` or `bucket/prefix`. Throws naming the bad entry. */
export function parseAllowBuckets(value: string): AllowedBucket[] {
  return value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((entry) => {
      const slash = entry.indexOf('/');
      const bucket = slash < 0 ? entry : entry.slice(0, slash);
      const prefix = slash < 0 ? '' : entry.slice(slash + 1);
      if (!BUCKET.test(bucket)) throw new Error(`expected "bucket" or "bucket/prefix" entries separated by commas; ${JSON.stringify(bucket)} is not an S3 bucket name`);
      return { bucket, prefix };
    });
}

/**
 * The real path of `p`, also for a path that does not exist (yet): the real path of its nearest existing ancestor
 * with the rest appended, so a missing file under a linked folder is still judged where it would really be.
 */
function realPathLenient(p: string): string {
  const rest: string[] = [];
  let current = p;
  for (;;) {
    try {
      return path.join(fs.realpathSync.native(current), ...rest.reverse());
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const parent = path.dirname(current);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === current) return path.join(current, ...rest.reverse());
      rest.push(path.basename(current));
      current = parent;
    }
  }
}

function isUnder(real: string, root: string): boolean {
  return real === root || real.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/**
 * May the worker read the local path `p` (a folder or a file; relative paths are taken from the worker's working
 * directory)? `what` names it in the refusal, e.g. 'folder source path'.
 */
export function checkLocalPath(policy: ResourcePolicy, p: string, what: string): Verdict {
  if (p.includes('\0')) return { allowed: false, reason: `${what} ${JSON.stringify(p)} contains a NUL character` };
  const real = realPathLenient(path.resolve(p));
  if (policy.paths.some((root) => isUnder(real, realPathLenient(root)))) return { allowed: true, realPath: real };
  const shown = real === path.resolve(p) ? real : `${path.resolve(p)} (really ${real})`;
  const roots = policy.paths.length ? policy.paths.join(', ') : 'none';
  return {
    allowed: false,
    reason: `${what} ${shown} is outside the paths this worker allows (TWINFLOW_ALLOW_PATHS: ${roots}); add it to TWINFLOW_ALLOW_PATHS on the worker to read it`,
  };
}

/** May an S3 source read `prefix` of `bucket`? Only where an allowed entry's prefix covers the source's. */
export function checkBucket(policy: ResourcePolicy, bucket: string, prefix: string): Verdict {
  if (policy.buckets.some((b) => b.bucket === bucket && prefix.startsWith(b.prefix))) return { allowed: true, realPath: `s3://${bucket}/${prefix}` };
  const allowed = policy.buckets.length ? policy.buckets.map((b) => (b.prefix ? `${b.bucket}/${b.prefix}` : b.bucket)).join(', ') : 'none';
  return {
    allowed: false,
    reason: `s3://${bucket}/${prefix} is outside the buckets this worker allows (TWINFLOW_ALLOW_BUCKETS: ${allowed}); add "${bucket}" (or "${bucket}/${prefix}") to TWINFLOW_ALLOW_BUCKETS on the worker to read it`,
  };
}

/**
 * May a git source clone `url`? A `file://` URL reads the worker's disk, so its repository must lie under
 * TWINFLOW_ALLOW_PATHS; network URLs are the network policy's concern, not this one's.
 */
export function checkGitUrl(policy: ResourcePolicy, url: string): Verdict {
  if (!/^file:/i.test(url)) return { allowed: true, realPath: url };
  let p: string;
  try {
    p = fileURLToPath(url);
  } catch (err) {
    return { allowed: false, reason: `git source url ${url}: ${(err as Error).message}` };
  }
  const verdict = checkLocalPath(policy, p, 'git source file:// repository');
  return verdict;
}

/** A local path or file:// URL of a dataset's records (s3:// URIs are checked against the buckets). */
export function checkRecordsUri(policy: ResourcePolicy, uri: string): Verdict {
  if (uri.startsWith('s3://')) {
    const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
    if (!m) return { allowed: false, reason: `records uri ${uri}: expected s3://bucket/key` };
    return checkBucket(policy, m[1]!, m[2]!);
  }
  let p = uri;
  if (uri.startsWith('file:')) {
    try {
      p = fileURLToPath(uri);
    } catch (err) {
      return { allowed: false, reason: `records uri ${uri}: ${(err as Error).message}` };
    }
  }
  return checkLocalPath(policy, p, 'dataset records path');
}

/**
 * Does a model reference (a base model, merged weights, an adapter) name this machine's disk? An s3:// prefix does
 * not, nor a Hub id ("org/name") that is no folder here; an absolute or ./ path, or any name that exists as a path,
 * does: the trainer (transformers, PEFT) loads an existing folder before it asks the Hub.
 */
export function isLocalModelPath(ref: string): boolean {
  if (ref.startsWith('s3://')) return false;
  return path.isAbsolute(ref) || ref.startsWith('.') || fs.existsSync(ref);
}

/** Thrown where a refusal ends a step (dataset records); sources report it as a listing failure instead. */
export class ResourceNotAllowedError extends Error {
  override name = 'ResourceNotAllowedError';
}

/**
 * `config` with `extra` paths allowed as well: for the workers a command runs in its own process for the person who
 * runs it (the demo, `train --with-workers`), which read exactly the files that person pointed them at.
 */
export function withAllowedPaths<T extends { resources: ResourcePolicy }>(config: T, extra: readonly string[]): T {
  return { ...config, resources: { ...config.resources, paths: [...config.resources.paths, ...extra.map((p) => path.resolve(p))] } };
}
