/**
 * Idempotent install of the local stack's two binaries, built from source with `go install` (no Docker, no
 * prebuilt downloads): the official Temporal CLI (dev server + Web UI) and MinIO.
 *
 * Builds land in a per-user cache (~/.cache/twinflow/bin/<name>-<version>/) and are linked into the project's
 * git-ignored .twinflow/bin/, so a fresh clone on a machine that built them once installs in a second.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface BinarySpec {
  name: string;
  module: string;
  version: string;
  /** The file `go install` writes (the module path's last element) when it is not `name`. */
  goBinary?: string;
}

export const BINARIES: Record<'temporal' | 'minio', BinarySpec> = {
  // v1.5.1 is the newest CLI that `go install` can build (later versions carry replace directives).
  temporal: { name: 'temporal', module: 'github.com/temporalio/cli/cmd/temporal', version: 'v1.5.1' },
  // MinIO publishes no semver tags to the module proxy; this pseudo-version pins a tested build.
  minio: { name: 'minio', module: 'github.com/minio/minio', version: 'v0.0.0-20260212201848-7aac2a2c5b7c' },
};

export class PrerequisiteError extends Error {
  override name = 'PrerequisiteError';
}

function cacheRoot(): string {
  return process.env.TWINFLOW_BIN_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'twinflow', 'bin');
}

export function binDir(home: string): string {
  return path.join(home, 'bin');
}

/** Where the project expects the binary (a link into the per-user cache). */
export function binaryPath(home: string, spec: BinarySpec): string {
  return path.join(binDir(home), `${spec.name}-${spec.version}`);
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function requireGo(): string {
  const found = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0) {
    throw new PrerequisiteError(
      'Go is required to build the local stack (temporal CLI and MinIO): install Go >= 1.24 from https://go.dev/dl/ and make sure `go` is on PATH',
    );
  }
  return found.stdout.trim();
}

/** Runs `go install module@version` into dir, echoing go's progress lines with a prefix. */
async function goInstall(spec: BinarySpec, dir: string, log: (line: string) => void): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const started = Date.now();
  log(`building ${spec.name} ${spec.version} with ${requireGo()} (first time only: several minutes)`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn('go', ['install', '-v', `${spec.module}@${spec.version}`], {
      env: { ...process.env, GOBIN: dir, GOFLAGS: process.env.GOFLAGS ?? '-trimpath' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let packages = 0;
    let lastReport = 0;
    const tail: string[] = [];
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        if (!line.startsWith('go: downloading')) packages += 1;
        const now = Date.now();
        if (now - lastReport > 5000) {
          lastReport = now;
          log(`  ${spec.name}: ${packages} packages compiled, ${Math.round((now - started) / 1000)}s`);
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`go install ${spec.module}@${spec.version} failed (exit ${code}):\n${tail.join('\n')}`));
    });
  });
  log(`built ${spec.name} in ${Math.round((Date.now() - started) / 1000)}s`);
}

/** Ensures the binary is installed; returns its path. Skips all work when it is already there. */
export async function ensureBinary(home: string, spec: BinarySpec, log: (line: string) => void = console.log): Promise<string> {
  const target = binaryPath(home, spec);
  if (isExecutable(target)) return target;
  const cached = path.join(cacheRoot(), `${spec.name}-${spec.version}`, spec.goBinary ?? spec.name);
  if (!isExecutable(cached)) await goInstall(spec, path.dirname(cached), log);
  fs.mkdirSync(binDir(home), { recursive: true });
  fs.rmSync(target, { force: true });
  try {
    fs.linkSync(cached, target); // same filesystem: free
  } catch {
    fs.copyFileSync(cached, target);
    fs.chmodSync(target, 0o755);
  }
  log(`installed ${spec.name} ${spec.version} → ${path.relative(process.cwd(), target) || target}`);
  return target;
}

export async function ensureBinaries(home: string, log: (line: string) => void = console.log): Promise<{ temporal: string; minio: string }> {
  // Sequential on purpose: two Go builds at once only fight over the same cores.
  const temporal = await ensureBinary(home, BINARIES.temporal, log);
  const minio = await ensureBinary(home, BINARIES.minio, log);
  return { temporal, minio };
}
