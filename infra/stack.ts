/**
 * The local stack without Docker: the Temporal dev server (SQLite-persisted, Web UI) and MinIO, started in the
 * background with health checks, logs to files, and pid files so that `down` stops exactly what `up` started
 * (processes.ts); MinIO's buckets and notifications are set up by buckets.ts.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Config } from '../lib/config';
import { ensureBinaries } from './binaries';
import { type BucketNotifications, minioWebhookEnv, setUpBuckets, WEBHOOK_TARGET_ARN } from './buckets';
import { httpOk, minioHealthy, temporalHealthy } from './health';
import { logFileOf, ownedPid, startDetached, StackError, stopProcess, waitFor } from './processes';

export { StackError } from './processes';

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

type ServiceName = 'temporal' | 'minio';

export interface ServiceStatus {
  name: ServiceName;
  running: boolean;
  healthy: boolean;
  pid?: number;
  url: string;
  log: string;
}

const logFile = (o: StackOptions, s: ServiceName) => logFileOf(o.dir, s);

export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(true));
    server.once('listening', () => server.close(() => resolve(false)));
    server.listen(port, host);
  });
}

/** Starts a service's binary detached; its pid file names the binary, so a recycled pid is never taken for it. */
function startService(o: StackOptions, s: ServiceName, binary: string, args: string[], env: Record<string, string> = {}): number {
  return startDetached(o.dir, { name: s, command: binary, args, env: { ...process.env, ...env } });
}

async function assertPortsFree(ports: Array<[number, string]>): Promise<void> {
  for (const [port, variable] of ports) {
    if (await portInUse(port)) {
      throw new StackError(`port ${port} is already in use by another process: stop that process or set ${variable} to a free port`);
    }
  }
}

async function upTemporal(o: StackOptions, binary: string, log: (l: string) => void): Promise<void> {
  if (ownedPid(o.dir, 'temporal') && (await temporalHealthy(o.temporalPort))) {
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
  const pid = startService(o, 'temporal', binary, args);
  log(`temporal: started (pid ${pid}), waiting for health`);
  await waitFor('Temporal dev server', () => temporalHealthy(o.temporalPort), 60_000, logFile(o, 'temporal'));
  await waitFor('Temporal Web UI', () => httpOk(`http://127.0.0.1:${o.temporalUiPort}/`), 30_000, logFile(o, 'temporal'));
}

async function upMinio(o: StackOptions, binary: string, log: (l: string) => void): Promise<void> {
  if (ownedPid(o.dir, 'minio') && (await minioHealthy(o.minioPort))) {
    log(`minio: already running on 127.0.0.1:${o.minioPort}`);
  } else {
    await assertPortsFree([
      [o.minioPort, 'TWINFLOW_MINIO_PORT'],
      [o.minioConsolePort, 'TWINFLOW_MINIO_CONSOLE_PORT'],
    ]);
    const dataDir = path.join(o.dir, 'minio-data');
    fs.mkdirSync(dataDir, { recursive: true });
    const pid = startService(
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
    await waitFor('MinIO', () => minioHealthy(o.minioPort), 60_000, logFile(o, 'minio'));
  }
  await setUpBuckets(
    {
      endpoint: `http://127.0.0.1:${o.minioPort}`,
      accessKeyId: o.accessKeyId,
      secretAccessKey: o.secretAccessKey,
      buckets: [o.bucket, ...(o.extraBuckets ?? [])],
      notifications: o.notifications,
    },
    log,
  );
}

/** Installs (if needed) and starts both services; returns once both are healthy and the buckets exist. */
export async function stackUp(o: StackOptions, log: (l: string) => void = console.log): Promise<ServiceStatus[]> {
  const bins = await ensureBinaries(o.home, log);
  // Check every port first, so that a busy port starts nothing at all (no half-started stack to clean up).
  if (!(ownedPid(o.dir, 'temporal') && (await temporalHealthy(o.temporalPort)))) {
    await assertPortsFree([
      [o.temporalPort, 'TWINFLOW_TEMPORAL_PORT'],
      [o.temporalUiPort, 'TWINFLOW_TEMPORAL_UI_PORT'],
    ]);
  }
  if (!(ownedPid(o.dir, 'minio') && (await minioHealthy(o.minioPort)))) {
    await assertPortsFree([
      [o.minioPort, 'TWINFLOW_MINIO_PORT'],
      [o.minioConsolePort, 'TWINFLOW_MINIO_CONSOLE_PORT'],
    ]);
  }
  await Promise.all([upTemporal(o, bins.temporal, log), upMinio(o, bins.minio, log)]);
  return stackStatus(o);
}

async function stopService(o: StackOptions, s: ServiceName, log: (l: string) => void): Promise<void> {
  const pid = await stopProcess(o.dir, s, 15_000);
  log(pid ? `${s}: stopped (pid ${pid})` : `${s}: not running`);
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
  const tpid = ownedPid(o.dir, 'temporal');
  const mpid = ownedPid(o.dir, 'minio');
  const [th, mh] = await Promise.all([temporalHealthy(o.temporalPort), minioHealthy(o.minioPort)]);
  return [
    { name: 'temporal', running: tpid !== undefined, healthy: th, pid: tpid, url: `http://127.0.0.1:${o.temporalUiPort}`, log: logFile(o, 'temporal') },
    { name: 'minio', running: mpid !== undefined, healthy: mh, pid: mpid, url: `http://127.0.0.1:${o.minioConsolePort}`, log: logFile(o, 'minio') },
  ];
}
