/**
 * The local stack without Docker: the Temporal dev server (SQLite-persisted, Web UI) and MinIO, started in the
 * background with health checks, logs to files, and pid files so that `down` stops exactly what `up` started.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Event,
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Connection } from '@temporalio/client';
import { ArtifactStore, createS3Client } from '../lib/artifacts';
import type { Config } from '../lib/config';
import { ensureBinaries } from './binaries';

/**
 * Search attributes registered at start; workflows tag their runs with them (visible and filterable in the UI). On any
 * other server the CPU worker registers the missing ones at start where it may, or runs without them (workers/
 * search-attributes.ts); a run upserts only those its worker found registered. Add new ones at the end.
 */
export const SEARCH_ATTRIBUTES = {
  TwinflowPipeline: 'Keyword',
  TwinflowCollection: 'Keyword',
  /** Set when a run needs a person's attention, e.g. `deletions_held` (a sync's deletion guard held deletions back). */
  TwinflowStatus: 'Keyword',
  /** The source ids a run (or a source's child run) reads, e.g. `notes`, `blog`. */
  TwinflowSource: 'KeywordList',
  /** Their types: `web`, `git`, `folder`, `s3`. */
  TwinflowSourceType: 'KeywordList',
  /** train: the base model (Hub id, folder or s3:// prefix). */
  TwinflowModel: 'Keyword',
  /** train: the dataset's name. */
  TwinflowDataset: 'Keyword',
} as const;

export interface StackOptions {
  home: string;
  dir: string;
  temporalPort: number;
  temporalUiPort: number;
  minioPort: number;
  minioConsolePort: number;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Extra environment for MinIO (e.g. bucket-notification webhook targets). */
  minioEnv?: Record<string, string>;
  /** Extra buckets to create. */
  extraBuckets?: string[];
  /** Bucket notifications to configure once MinIO is up (the webhook target must be in minioEnv). */
  notifications?: BucketNotifications;
}

/** MinIO's id of twinflow's webhook target: its env vars end in _TWINFLOW and its ARN is arn:minio:sqs::TWINFLOW:webhook. */
export const WEBHOOK_TARGET_ID = 'TWINFLOW';
export const WEBHOOK_TARGET_ARN = `arn:minio:sqs::${WEBHOOK_TARGET_ID}:webhook`;

export interface BucketNotifications {
  /** The target's ARN (WEBHOOK_TARGET_ARN for the target that minioWebhookEnv configures). */
  arn: string;
  prefixes: Array<{ bucket: string; prefix: string }>;
}

/**
 * MinIO's environment for a webhook target that posts bucket events to `endpoint` with the shared secret. Events wait
 * in `queueDir` while the endpoint is down and are delivered when it is back.
 */
export function minioWebhookEnv(endpoint: string, secret: string, queueDir: string): Record<string, string> {
  return {
    [`MINIO_NOTIFY_WEBHOOK_ENABLE_${WEBHOOK_TARGET_ID}`]: 'on',
    [`MINIO_NOTIFY_WEBHOOK_ENDPOINT_${WEBHOOK_TARGET_ID}`]: endpoint,
    [`MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_${WEBHOOK_TARGET_ID}`]: `Bearer ${secret}`,
    [`MINIO_NOTIFY_WEBHOOK_QUEUE_DIR_${WEBHOOK_TARGET_ID}`]: queueDir,
  };
}

/**
 * Points the buckets' object-created/removed events under each prefix at the webhook target. Notification
 * configurations of other targets on those buckets are kept; twinflow's own (by id) are replaced, so this is
 * idempotent.
 */
export async function configureBucketNotifications(s3: S3Client, n: BucketNotifications): Promise<void> {
  const byBucket = new Map<string, string[]>();
  for (const { bucket, prefix } of n.prefixes) byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), prefix]);
  for (const [Bucket, prefixes] of byBucket) {
    const current = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket }));
    const others = (current.QueueConfigurations ?? []).filter((q) => !q.Id?.startsWith('twinflow-'));
    const ours = [...new Set(prefixes)].map((prefix) => ({
      Id: `twinflow-${prefix}`,
      QueueArn: n.arn,
      Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'] as Event[],
      Filter: { Key: { FilterRules: [{ Name: 'prefix' as const, Value: prefix }] } },
    }));
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket,
        NotificationConfiguration: {
          QueueConfigurations: [...others, ...ours],
          TopicConfigurations: current.TopicConfigurations,
          LambdaFunctionConfigurations: current.LambdaFunctionConfigurations,
        },
      }),
    );
  }
}

export function stackOptionsFromConfig(config: Config, extra: Partial<StackOptions> = {}): StackOptions {
  // With a webhook secret configured, MinIO posts the inbox prefixes' object events to `twinflow webhook serve`.
  const { secret, url, notify } = config.webhook;
  const push: Partial<StackOptions> = secret
    ? {
        minioEnv: minioWebhookEnv(url, secret, path.join(config.stack.dir, 'minio-events')),
        notifications: { arn: WEBHOOK_TARGET_ARN, prefixes: notify },
        extraBuckets: [...new Set(notify.map((n) => n.bucket).filter((b) => b !== config.s3.bucket))],
      }
    : {};
  return {
    home: config.home,
    dir: config.stack.dir,
    temporalPort: config.stack.temporalPort,
    temporalUiPort: config.stack.temporalUiPort,
    minioPort: config.stack.minioPort,
    minioConsolePort: config.stack.minioConsolePort,
    bucket: config.s3.bucket,
    accessKeyId: config.s3.accessKeyId || 'minioadmin',
    secretAccessKey: config.s3.secretAccessKey || 'minioadmin',
    ...push,
    ...extra,
  };
}

export class StackError extends Error {
  override name = 'StackError';
}

type ServiceName = 'temporal' | 'minio';

export interface ServiceStatus {
  name: ServiceName;
  running: boolean;
  healthy: boolean;
  pid?: number;
  url: string;
  log: string;
}

const pidFile = (o: StackOptions, s: ServiceName) => path.join(o.dir, 'run', `${s}.pid`);
const logFile = (o: StackOptions, s: ServiceName) => path.join(o.dir, 'logs', `${s}.log`);

/** The command line of a live process, or undefined (portable: `ps` exists on Linux and macOS). */
function commandOf(pid: number): string | undefined {
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  const ps = spawnSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8' });
  const cmd = ps.stdout?.trim();
  return cmd ? cmd : undefined;
}

/** The pid recorded by `up`, if that process still runs and is still the binary we started. */
function ownedPid(o: StackOptions, s: ServiceName): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(pidFile(o, s), 'utf8');
  } catch {
    return undefined;
  }
  const [pidText, marker] = text.trim().split('\n');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const cmd = commandOf(pid);
  // A recycled pid running something else is not ours: never signal it.
  if (!cmd || (marker && !cmd.includes(marker))) return undefined;
  return pid;
}

export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(true));
    server.once('listening', () => server.close(() => resolve(false)));
    server.listen(port, host);
  });
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

async function temporalHealthy(o: StackOptions): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address: `127.0.0.1:${o.temporalPort}`, connectTimeout: 2000 });
    await connection.workflowService.getSystemInfo({});
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

const minioHealthy = (o: StackOptions) => httpOk(`http://127.0.0.1:${o.minioPort}/minio/health/live`);

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, log: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(250);
  }
  const tail = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').slice(-15).join('\n') : '(no log)';
  throw new StackError(`${what} did not become healthy within ${timeoutMs / 1000}s; last lines of ${log}:\n${tail}`);
}

function startDetached(o: StackOptions, s: ServiceName, binary: string, args: string[], env: Record<string, string> = {}): number {
  fs.mkdirSync(path.dirname(logFile(o, s)), { recursive: true });
  fs.mkdirSync(path.dirname(pidFile(o, s)), { recursive: true });
  const out = fs.openSync(logFile(o, s), 'a');
  fs.writeSync(out, `\n--- ${s} starting ${args.join(' ')}\n`);
  const child = spawn(binary, args, {
    detached: true, // its own process group: survives the CLI and is stopped by `down`
    stdio: ['ignore', out, out],
    env: { ...process.env, ...env },
  });
  fs.closeSync(out);
  if (!child.pid) throw new StackError(`could not start ${binary}`);
  child.unref();
  fs.writeFileSync(pidFile(o, s), `${child.pid}\n${path.basename(binary)}\n`);
  return child.pid;
}

async function assertPortsFree(ports: Array<[number, string]>): Promise<void> {
  for (const [port, variable] of ports) {
    if (await portInUse(port)) {
      throw new StackError(`port ${port} is already in use by another process: stop that process or set ${variable} to a free port`);
    }
  }
}

async function upTemporal(o: StackOptions, binary: string, log: (l: string) => void): Promise<void> {
  if (ownedPid(o, 'temporal') && (await temporalHealthy(o))) {
    log(`temporal: already running on 127.0.0.1:${o.temporalPort}`);
    return;
  }
  // The dev server's HTTP API and metrics listen on random free ports, so only these two can collide.
  await assertPortsFree([
    [o.temporalPort, 'TWINFLOW_TEMPORAL_PORT'],
    [o.temporalUiPort, 'TWINFLOW_TEMPORAL_UI_PORT'],
  ]);
  fs.mkdirSync(o.dir, { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    path.join(o.dir, 'temporal.sqlite'),
    '--ip',
    '127.0.0.1',
    '--port',
    String(o.temporalPort),
    '--ui-port',
    String(o.temporalUiPort),
    '--log-level',
    'warn',
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
  ];
  const pid = startDetached(o, 'temporal', binary, args);
  log(`temporal: started (pid ${pid}), waiting for health`);
  await waitFor('Temporal dev server', () => temporalHealthy(o), 60_000, logFile(o, 'temporal'));
  await waitFor('Temporal Web UI', () => httpOk(`http://127.0.0.1:${o.temporalUiPort}/`), 30_000, logFile(o, 'temporal'));
}

async function upMinio(o: StackOptions, binary: string, log: (l: string) => void): Promise<void> {
  if (ownedPid(o, 'minio') && (await minioHealthy(o))) {
    log(`minio: already running on 127.0.0.1:${o.minioPort}`);
  } else {
    await assertPortsFree([
      [o.minioPort, 'TWINFLOW_MINIO_PORT'],
      [o.minioConsolePort, 'TWINFLOW_MINIO_CONSOLE_PORT'],
    ]);
    const dataDir = path.join(o.dir, 'minio-data');
    fs.mkdirSync(dataDir, { recursive: true });
    const pid = startDetached(
      o,
      'minio',
      binary,
      ['server', dataDir, '--address', `127.0.0.1:${o.minioPort}`, '--console-address', `127.0.0.1:${o.minioConsolePort}`, '--quiet'],
      {
        MINIO_ROOT_USER: o.accessKeyId,
        MINIO_ROOT_PASSWORD: o.secretAccessKey,
        MINIO_BROWSER_REDIRECT: 'off',
        ...o.minioEnv,
      },
    );
    log(`minio: started (pid ${pid}), waiting for health`);
    await waitFor('MinIO', () => minioHealthy(o), 60_000, logFile(o, 'minio'));
  }
  const s3 = createS3Client({
    endpoint: `http://127.0.0.1:${o.minioPort}`,
    region: 'us-east-1',
    bucket: o.bucket,
    forcePathStyle: true,
    accessKeyId: o.accessKeyId,
    secretAccessKey: o.secretAccessKey,
  });
  try {
    for (const bucket of [o.bucket, ...(o.extraBuckets ?? [])]) await new ArtifactStore(s3, bucket).ensureBucket();
    if (o.notifications && o.notifications.prefixes.length > 0) {
      try {
        await configureBucketNotifications(s3, o.notifications);
        log(`minio: bucket notifications → webhook for ${o.notifications.prefixes.map((p) => `${p.bucket}/${p.prefix}`).join(', ')}`);
      } catch (err) {
        // A MinIO started earlier without the webhook target does not know its ARN: it needs a restart to load it.
        throw new StackError(
          `could not configure bucket notifications (${(err as Error).message}); if MinIO was started before the webhook was configured, run \`twinflow stack down\` and \`twinflow stack up\` again`,
        );
      }
    }
  } finally {
    s3.destroy();
  }
}

/** Installs (if needed) and starts both services; returns once both are healthy and the buckets exist. */
export async function stackUp(o: StackOptions, log: (l: string) => void = console.log): Promise<ServiceStatus[]> {
  const bins = await ensureBinaries(o.home, log);
  // Check every port first, so that a busy port starts nothing at all (no half-started stack to clean up).
  if (!(ownedPid(o, 'temporal') && (await temporalHealthy(o)))) {
    await assertPortsFree([
      [o.temporalPort, 'TWINFLOW_TEMPORAL_PORT'],
      [o.temporalUiPort, 'TWINFLOW_TEMPORAL_UI_PORT'],
    ]);
  }
  if (!(ownedPid(o, 'minio') && (await minioHealthy(o)))) {
    await assertPortsFree([
      [o.minioPort, 'TWINFLOW_MINIO_PORT'],
      [o.minioConsolePort, 'TWINFLOW_MINIO_CONSOLE_PORT'],
    ]);
  }
  await Promise.all([upTemporal(o, bins.temporal, log), upMinio(o, bins.minio, log)]);
  return stackStatus(o);
}

async function stopService(o: StackOptions, s: ServiceName, log: (l: string) => void): Promise<void> {
  const pid = ownedPid(o, s);
  if (!pid) {
    fs.rmSync(pidFile(o, s), { force: true });
    log(`${s}: not running`);
    return;
  }
  // Signal the whole process group started by `up` (the server and any children it spawned).
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + 15_000;
  while (commandOf(pid) && Date.now() < deadline) await sleep(100);
  if (commandOf(pid)) {
    signal('SIGKILL');
    while (commandOf(pid)) await sleep(100);
  }
  fs.rmSync(pidFile(o, s), { force: true });
  log(`${s}: stopped (pid ${pid})`);
}

/** MinIO alone (as `stackUp` starts it: buckets, notifications); for a second MinIO beside a running stack. */
export async function minioUp(o: StackOptions, log: (l: string) => void = console.log): Promise<void> {
  const bins = await ensureBinaries(o.home, log);
  await upMinio(o, bins.minio, log);
}

export async function minioDown(o: StackOptions, log: (l: string) => void = console.log): Promise<void> {
  await stopService(o, 'minio', log);
}

/** Stops only the processes that `up` started (recorded in pid files); data and history stay on disk. */
export async function stackDown(o: StackOptions, log: (l: string) => void = console.log): Promise<void> {
  await Promise.all([stopService(o, 'temporal', log), stopService(o, 'minio', log)]);
}

export async function stackStatus(o: StackOptions): Promise<ServiceStatus[]> {
  const tpid = ownedPid(o, 'temporal');
  const mpid = ownedPid(o, 'minio');
  const [th, mh] = await Promise.all([temporalHealthy(o), minioHealthy(o)]);
  return [
    { name: 'temporal', running: tpid !== undefined, healthy: th, pid: tpid, url: `http://127.0.0.1:${o.temporalUiPort}`, log: logFile(o, 'temporal') },
    { name: 'minio', running: mpid !== undefined, healthy: mh, pid: mpid, url: `http://127.0.0.1:${o.minioConsolePort}`, log: logFile(o, 'minio') },
  ];
}
