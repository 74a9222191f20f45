/**
 * Folders ⇄ S3 prefixes for model artifacts (checkpoints, adapters, merged weights). Files are streamed (weights can
 * be many GB). An upload ends with a `_COMPLETE.json` marker listing the files, so a reader never takes a half-written
 * checkpoint for a whole one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ArtifactStore } from '../../lib/artifacts';

export const COMPLETE_MARKER = '_COMPLETE.json';

export interface DirManifest {
  files: Array<{ path: string; bytes: number }>;
}

export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) out.push(path.relative(dir, p).split(path.sep).join('/'));
    }
  };
  walk(dir);
  return out;
}

/** Uploads every file of `dir` under `prefix/`, then the completion marker. Returns the prefix URI. */
export async function uploadDir(artifacts: ArtifactStore, dir: string, prefix: string): Promise<{ uri: string; files: DirManifest['files'] }> {
  const base = artifacts.keyOf(prefix).replace(/\/+$/, '');
  const files: DirManifest['files'] = [];
  for (const rel of listFiles(dir)) {
    const file = path.join(dir, rel);
    const bytes = fs.statSync(file).size;
    await new Upload({
      client: artifacts.s3,
      params: { Bucket: artifacts.bucket, Key: `${base}/${rel}`, Body: fs.createReadStream(file) },
      queueSize: 4,
      partSize: 16 * 1024 * 1024,
    }).done();
    files.push({ path: rel, bytes });
  }
  await artifacts.putJson(`${base}/${COMPLETE_MARKER}`, { files } satisfies DirManifest);
  return { uri: artifacts.uri(`${base}/`), files };
}

/** Downloads a completely uploaded prefix into `dir`. Throws when the prefix has no completion marker. */
export async function downloadDir(artifacts: ArtifactStore, prefix: string, dir: string): Promise<DirManifest> {
  const base = artifacts.keyOf(prefix).replace(/\/+$/, '');
  const manifest = await artifacts.getJsonIfExists<DirManifest>(`${base}/${COMPLETE_MARKER}`);
  if (!manifest) throw new Error(`${artifacts.uri(base)}/ is not a complete upload (no ${COMPLETE_MARKER})`);
  for (const f of manifest.files) {
    const target = path.join(dir, ...f.path.split('/'));
    if (!target.startsWith(path.resolve(dir) + path.sep)) throw new Error(`refusing to write outside ${dir}: ${f.path}`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const out = await artifacts.s3.send(new GetObjectCommand({ Bucket: artifacts.bucket, Key: `${base}/${f.path}` }));
    await pipeline(out.Body as Readable, fs.createWriteStream(target));
  }
  return manifest;
}

/**
 * Copies a folder by hard links where possible (instant, and the copy survives the trainer deleting the original,
 * e.g. an old checkpoint past save_total_limit), else by copying.
 */
export function snapshotDir(src: string, dst: string): void {
  for (const rel of listFiles(src)) {
    const from = path.join(src, rel);
    const to = path.join(dst, rel);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    try {
      fs.linkSync(from, to);
    } catch {
      fs.copyFileSync(from, to);
    }
  }
}

/** The complete checkpoint with the highest step under `prefix` (…/checkpoint-<step>/_COMPLETE.json), if any. */
export async function latestCheckpoint(artifacts: ArtifactStore, prefix: string): Promise<{ key: string; step: number } | undefined> {
  let best: { key: string; step: number } | undefined;
  for await (const o of artifacts.list(prefix)) {
    const m = /^(.*\/checkpoint-(\d+))\/_COMPLETE\.json$/.exec(o.key);
    if (m && (!best || Number(m[2]) > best.step)) best = { key: m[1]!, step: Number(m[2]) };
  }
  return best;
}
