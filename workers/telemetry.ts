/**
 * What a worker shows about itself: Prometheus metrics, logs (text or JSON lines with workflow and activity ids), and
 * OpenTelemetry traces. All from environment variables, read once per process:
 *
 *   TWINFLOW_METRICS_PORT   serve /metrics on this port (off when unset): the Temporal SDK's own metrics (temporal_*,
 *                           from the Rust core's Prometheus exporter on an internal loopback port) followed by the
 *                           pipeline's (twinflow_*, lib/pipeline-metrics.ts), one scrape target per worker process
 *   TWINFLOW_METRICS_HOST   the address it listens on (default 0.0.0.0, so a Prometheus elsewhere can scrape it)
 *   TWINFLOW_LOG_FORMAT     text (default) or json: one JSON object per line with time, level, message and the SDK's
 *                           context (namespace, taskQueue, workflowId, runId, workflowType, activityId, activityType,
 *                           attempt), also for the SDK core's own logs
 *   TWINFLOW_LOG_LEVEL      TRACE, DEBUG, INFO (default), WARN, ERROR
 *   OTEL_EXPORTER_OTLP_ENDPOINT  when set, traces (workflow, activity and child-workflow spans, linked across workers)
 *                           go to this OTLP/HTTP endpoint (e.g. http://otel-collector:4318) through
 *                           @temporalio/interceptors-opentelemetry; OTEL_SERVICE_NAME names the service (default
 *                           twinflow-worker). OTEL_EXPORTER_OTLP_TRACES_ENDPOINT and _HEADERS are honoured as usual.
 *
 * Runtime.install can run once per process and must come before the first connection; installTelemetry() does it
 * (connectWorker calls it). A process whose runtime was installed by someone else (a test harness) keeps that
 * runtime: its /metrics then has only the pipeline's metrics.
 */
import http from 'node:http';
import net from 'node:net';
import { createRequire } from 'node:module';
import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Context as ActivityContext } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import {
  type ActivityInboundCallsInterceptor,
  type ActivityInterceptors,
  DefaultLogger,
  type LogLevel,
  type Logger,
  type LogMetadata,
  Runtime,
  type WorkerOptions,
} from '@temporalio/worker';
import { ConfigError } from '../lib/config';
import { metricsRegistry, observeActivity, pipelineMetrics } from '../lib/pipeline-metrics';

const LEVELS: LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

export interface TelemetrySettings {
  metricsPort?: number;
  metricsHost: string;
  logFormat: 'text' | 'json';
  logLevel: LogLevel;
  otlpEndpoint?: string;
  serviceName: string;
}

export function telemetrySettings(env: NodeJS.ProcessEnv = process.env): TelemetrySettings {
  const v = (k: string) => {
    const s = env[k]?.trim();
    return s ? s : undefined;
  };
  const bad = (k: string, expected: string) => new ConfigError(`Invalid configuration: ${k}: ${expected}, got "${env[k]}"`);
  let metricsPort: number | undefined;
  if (v('TWINFLOW_METRICS_PORT') !== undefined) {
    metricsPort = Number(v('TWINFLOW_METRICS_PORT'));
    if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535) throw bad('TWINFLOW_METRICS_PORT', 'expected a port number (1-65535; 0 picks a free one)');
  }
  const logFormat = (v('TWINFLOW_LOG_FORMAT') ?? 'text').toLowerCase();
  if (logFormat !== 'text' && logFormat !== 'json') throw bad('TWINFLOW_LOG_FORMAT', 'expected text or json');
  const logLevel = (v('TWINFLOW_LOG_LEVEL') ?? 'INFO').toUpperCase() as LogLevel;
  if (!LEVELS.includes(logLevel)) throw bad('TWINFLOW_LOG_LEVEL', `expected one of ${LEVELS.join(', ')}`);
  const otlpEndpoint = v('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? v('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (otlpEndpoint !== undefined && !/^https?:\/\//.test(otlpEndpoint)) throw bad(v('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT', 'expected an http(s):// URL of an OTLP/HTTP endpoint');
  return { metricsPort, metricsHost: v('TWINFLOW_METRICS_HOST') ?? '0.0.0.0', logFormat, logLevel, otlpEndpoint, serviceName: v('OTEL_SERVICE_NAME') ?? 'twinflow-worker' };
}

// ---- logs ----

function jsonSafe(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** One JSON object per line on stdout: {"time","level","message", ...context}. */
export class JsonLogger implements Logger {
  private readonly min: number;
  constructor(
    level: LogLevel = 'INFO',
    private readonly write: (line: string) => void = (l) => process.stdout.write(l),
  ) {
    this.min = LEVELS.indexOf(level);
  }
  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (LEVELS.indexOf(level) < this.min) return;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, message };
    for (const [k, val] of Object.entries(meta ?? {})) {
      // The SDK's own timestamp (ns, bigint) is in `time` already.
      if (k === 'time' || val === undefined) continue;
      entry[k === 'message' ? 'detail' : k] = jsonSafe(val);
    }
    // Workflow and activity context use runId and workflowRunId for the same thing: give both one name.
    if (entry.runId === undefined && entry.workflowRunId !== undefined) entry.runId = entry.workflowRunId;
    let line: string;
    try {
      line = JSON.stringify(entry, (_k, val) => jsonSafe(val));
    } catch {
      line = JSON.stringify({ time: entry.time, level, message, detail: '(context not serialisable)' });
    }
    this.write(`${line}\n`);
  }
  trace(m: string, meta?: LogMetadata) {
    this.log('TRACE', m, meta);
  }
  debug(m: string, meta?: LogMetadata) {
    this.log('DEBUG', m, meta);
  }
  info(m: string, meta?: LogMetadata) {
    this.log('INFO', m, meta);
  }
  warn(m: string, meta?: LogMetadata) {
    this.log('WARN', m, meta);
  }
  error(m: string, meta?: LogMetadata) {
    this.log('ERROR', m, meta);
  }
}

// ---- process-wide state ----

interface Tracing {
  resource: Resource;
  processor: SpanProcessor;
  shutdown: () => Promise<void>;
}

interface Installed {
  settings: TelemetrySettings;
  /** Whether this module installed the SDK runtime (and so its logger and metrics). */
  ownRuntime: boolean;
  sdkMetricsUrl?: string;
  server?: http.Server;
  metricsUrl?: string;
  tracing?: Tracing;
}

let installing: Promise<Installed> | undefined;

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function metricsText(sdkMetricsUrl: string | undefined): Promise<string> {
  let sdk = '';
  if (sdkMetricsUrl) {
    try {
      const res = await fetch(sdkMetricsUrl, { signal: AbortSignal.timeout(2000) });
      if (res.ok) sdk = await res.text();
    } catch {
      sdk = '# the Temporal SDK metrics endpoint did not answer\n';
    }
  }
  const own = await metricsRegistry.metrics();
  return `${sdk}${sdk && !sdk.endsWith('\n') ? '\n' : ''}${own}`;
}

function startMetricsServer(s: TelemetrySettings, sdkMetricsUrl: string | undefined): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method !== 'GET' || (url.pathname !== '/metrics' && url.pathname !== '/healthz')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics or /healthz\n');
      return;
    }
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    metricsText(sdkMetricsUrl).then(
      (text) => res.writeHead(200, { 'content-type': metricsRegistry.contentType }).end(text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  // A scrape target must not keep the process alive on its own.
  server.unref();
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new ConfigError(`TWINFLOW_METRICS_PORT: port ${s.metricsPort} on ${s.metricsHost} is already in use (another worker on this machine?): give each worker its own port`)
          : err,
      ),
    );
    server.listen(s.metricsPort, s.metricsHost, () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({ server, url: `http://${s.metricsHost === '0.0.0.0' ? '127.0.0.1' : s.metricsHost}:${port}/metrics` });
    });
  });
}

async function startTracing(s: TelemetrySettings): Promise<Tracing> {
  const [{ Resource }, { BatchSpanProcessor }, { NodeTracerProvider }, { OTLPTraceExporter }] = await Promise.all([
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
  ]);
  const resource = new Resource({ 'service.name': s.serviceName });
  // The exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT and _HEADERS itself (and appends /v1/traces to the former).
  const processor = new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 1000 });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register();
  return { resource, processor, shutdown: () => provider.shutdown() };
}

/** Installs the runtime (logger, SDK metrics), the /metrics server and tracing, once per process. */
export function installTelemetry(env: NodeJS.ProcessEnv = process.env): Promise<Installed> {
  installing ??= (async () => {
    const settings = telemetrySettings(env);
    const sdkPort = settings.metricsPort !== undefined ? await freeLoopbackPort() : undefined;
    let ownRuntime = false;
    try {
      Runtime.install({
        shutdownSignals: ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2'],
        logger: settings.logFormat === 'json' ? new JsonLogger(settings.logLevel) : new DefaultLogger(settings.logLevel),
        telemetryOptions: {
          // The core's own log lines go through the same logger (so they are JSON too when asked).
          logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
          ...(sdkPort !== undefined ? { metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkPort}`, countersTotalSuffix: true, useSecondsForDurations: true } } } : {}),
        },
      });
      ownRuntime = true;
    } catch {
      // Already installed by the embedding process (e.g. a test harness): keep its settings.
    }
    const installed: Installed = { settings, ownRuntime, sdkMetricsUrl: ownRuntime && sdkPort !== undefined ? `http://127.0.0.1:${sdkPort}/metrics` : undefined };
    if (settings.metricsPort !== undefined) {
      const { server, url } = await startMetricsServer(settings, installed.sdkMetricsUrl);
      installed.server = server;
      installed.metricsUrl = url;
      workerLogger().info(`metrics at ${url}${installed.sdkMetricsUrl ? '' : ' (pipeline metrics only: the SDK runtime was installed before twinflow could add its exporter)'}`);
    }
    if (settings.otlpEndpoint) {
      installed.tracing = await startTracing(settings);
      workerLogger().info(`tracing to ${settings.otlpEndpoint} as service ${settings.serviceName}`);
    }
    return installed;
  })();
  installing.catch(() => {
    installing = undefined;
  });
  return installing;
}

/** The runtime's logger (JSON when TWINFLOW_LOG_FORMAT=json): for the workers' own lines. */
export function workerLogger(): Logger {
  return Runtime.instance().logger;
}

/** Stops the /metrics server and flushes the traces not yet sent. */
export async function shutdownTelemetry(): Promise<void> {
  const done = await installing?.catch(() => undefined);
  installing = undefined;
  if (!done) return;
  await new Promise<void>((resolve) => (done.server ? done.server.close(() => resolve()) : resolve()));
  await done.tracing?.shutdown().catch(() => undefined);
}

// ---- worker options ----

function errorType(err: unknown): string {
  const e = err as { type?: unknown; name?: unknown } | undefined;
  return typeof e?.type === 'string' ? e.type : typeof e?.name === 'string' ? e.name : 'Error';
}

/** Activity outcomes and durations per type, and what their results say about the pipeline (lib/pipeline-metrics). */
function metricsInterceptor(ctx: ActivityContext): ActivityInterceptors {
  const inbound: ActivityInboundCallsInterceptor = {
    async execute(input, next) {
      const { activityType, taskQueue } = ctx.info;
      const started = performance.now();
      try {
        const result = await next(input);
        pipelineMetrics.activity(activityType, taskQueue, 'completed', (performance.now() - started) / 1000);
        observeActivity(activityType, input.args[0], result);
        return result;
      } catch (err) {
        const cancelled = err instanceof CancelledFailure || ctx.cancellationSignal.aborted;
        pipelineMetrics.activity(activityType, taskQueue, cancelled ? 'cancelled' : 'failed', (performance.now() - started) / 1000, cancelled ? '' : errorType(err));
        throw err;
      }
    },
  };
  return { inbound };
}

const require = createRequire(import.meta.url);

/**
 * Interceptors and sinks for Worker.create: metrics always, tracing when configured. The workflow half of tracing
 * is compiled into the bundle, so it is there only for workers that bundle from source (fromSource); a prebuilt
 * bundle (`twinflow bundle`) traces activities and child starts, and its workflow spans need the bundle built with
 * @temporalio/interceptors-opentelemetry/lib/workflow-interceptors among its workflowInterceptorModules.
 */
export async function telemetryWorkerOptions(fromSource: boolean): Promise<Pick<WorkerOptions, 'interceptors' | 'sinks'>> {
  const t = await installTelemetry();
  const activity: NonNullable<NonNullable<WorkerOptions['interceptors']>['activity']> = [metricsInterceptor];
  if (!t.tracing) return { interceptors: { activity } };
  const otel = await import('@temporalio/interceptors-opentelemetry');
  activity.push((ctx) => ({ inbound: new otel.OpenTelemetryActivityInboundInterceptor(ctx), outbound: new otel.OpenTelemetryActivityOutboundInterceptor(ctx) }));
  return {
    interceptors: {
      activity,
      ...(fromSource ? { workflowModules: [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')] } : {}),
    },
    sinks: { exporter: otel.makeWorkflowExporter(t.tracing.processor, t.tracing.resource) },
  };
}
