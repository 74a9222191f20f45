/**
 * What a real worker process (`node --import tsx workers/cpu.ts`, as `twinflow worker cpu` runs it) shows about
 * itself during a real ingest, configured only by environment:
 *
 * - TWINFLOW_METRICS_PORT: /metrics has the Temporal SDK's metrics and the pipeline's (activity outcomes per type,
 *   documents by outcome and reason, chunks, vectors), scraped while the run is in flight and after it;
 * - TWINFLOW_LOG_FORMAT=json: every line is a JSON object, and the activity and workflow lines carry their ids;
 * - OTEL_EXPORTER_OTLP_ENDPOINT: spans of the workflow and its activities reach an OTLP/HTTP endpoint (a collector
 *   stand-in on loopback that records what it is sent).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/config';
import type { IngestResult } from '../../lib/schemas/ingest';
import { TEST_ENV, testConfig } from '../harness/stack';

const config = testConfig();
let tmp: string;
let worker: ChildProcess;
let collector: http.Server;
let collectorUrl: string;
const exported: unknown[] = [];
const lines: string[] = [];
let stderr = '';
const taskQueue = `telemetry-${randomUUID()}`;

function spanNames(): string[] {
  const names: string[] = [];
  for (const body of exported) {
    for (const rs of (body as { resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: Array<{ name: string }> }> }> }).resourceSpans ?? []) {
      for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) names.push(s.name);
    }
  }
  return names;
}

function jsonLines(): Array<Record<string, unknown>> {
  return lines.filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of one sample, e.g. value(text, 'twinflow_documents_total', { outcome: 'fetched' }). */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-telemetry-'));
  collector = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        try {
          exported.push(JSON.parse(body));
        } catch {
          exported.push({ unparsed: body.length });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;

  const env: Record<string, string> = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && !k.startsWith('TWINFLOW_') && !k.startsWith('OTEL_') && !k.startsWith('TEMPORAL_')) as Array<[string, string]>),
    ...TEST_ENV,
    TWINFLOW_TASK_QUEUE: taskQueue,
    LANCEDB_URI: path.join(tmp, 'lancedb'),
    TWINFLOW_METRICS_PORT: '0',
    TWINFLOW_METRICS_HOST: '127.0.0.1',
    TWINFLOW_LOG_FORMAT: 'json',
    TWINFLOW_LOG_LEVEL: 'DEBUG',
    OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
    OTEL_SERVICE_NAME: 'twinflow-test-worker',
  };
  // Bundled from source at start (no TWINFLOW_WORKFLOW_BUNDLE), so the workflow half of tracing is compiled in.
  worker = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'workers', 'cpu.ts')], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let partial = '';
  worker.stdout!.on('data', (d: Buffer) => {
    const text = partial + d.toString();
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  worker.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // (expect.poll is for tests, not hooks.)
  const deadline = Date.now() + 240_000;
  while (!lines.some((l) => l.includes('twinflow CPU worker polling')) && worker.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  if (worker.exitCode !== null) throw new Error(`the worker exited (${worker.exitCode}):\n${stderr}\n${lines.join('\n')}`);
}, 300_000);

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    if (worker.exitCode === null) worker.kill('SIGKILL');
  }
  await new Promise((resolve) => collector?.close(resolve));
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('a worker process with metrics, JSON logs and tracing on', () => {
  it('serves /metrics during a real ingest, logs JSON lines with the ids, and exports spans', async () => {
    const metricsLine = jsonLines().find((l) => String(l.message).startsWith('metrics at '));
    expect(metricsLine, 'the worker says where its metrics are').toBeDefined();
    const metricsUrl = String(metricsLine!.message).split(' ')[2]!;

    const notes = path.join(tmp, 'notes');
    fs.mkdirSync(notes);
    fs.writeFileSync(path.join(notes, 'beetles.md'), `# Beetles\n\n${'Dung beetles steer by the Milky Way when they roll their balls at night. '.repeat(10)}`);
    fs.writeFileSync(path.join(notes, 'moths.md'), `# Moths\n\n${'Moths hear the calls of bats and drop out of the air to escape them. '.repeat(10)}`);
    fs.writeFileSync(path.join(notes, 'tiny.txt'), 'too short');

    const connection = await Connection.connect({ address: config.temporal.address });
    try {
      const client = new Client({ connection, namespace: config.temporal.namespace });
      const workflowId = `telemetry-ingest-${taskQueue}`;
      const handle = await client.workflow.start('ingest', { taskQueue, workflowId, args: [{ collection: 'telemetry', sources: [{ type: 'folder', id: 'notes', path: notes }] }] });
      let done = false;
      const result = handle.result().finally(() => (done = true)) as Promise<IngestResult>;
      // Scrape while it runs, as Prometheus would.
      let scrapedInFlight = 0;
      while (!done) {
        const text = await scrape(metricsUrl);
        if (!done && text.includes('temporal_')) scrapedInFlight++;
        await new Promise((r) => setTimeout(r, 200));
      }
      const r = await result;
      expect(r.documents.loaded).toBe(2);
      expect(scrapedInFlight).toBeGreaterThan(0);

      const text = await scrape(metricsUrl);
      // The SDK's own (the core's Prometheus exporter, merged in).
      expect(text).toMatch(/^temporal_workflow_completed_total\{/m);
      expect(text).toMatch(/^temporal_activity_execution_latency_bucket\{/m);
      // The pipeline's.
      for (const type of ['crawlSource', 'cleanPart', 'chunkPart', 'embedPart', 'loadPart']) {
        expect(value(text, 'twinflow_activity_executions_total', { activity_type: type, outcome: 'completed' }), type).toBeGreaterThan(0);
      }
      expect(value(text, 'twinflow_documents_total', { source: 'notes', outcome: 'fetched' })).toBe(3);
      expect(value(text, 'twinflow_documents_total', { source: 'notes', outcome: 'dropped', reason: 'too_short' })).toBe(1);
      expect(value(text, 'twinflow_documents_total', { source: 'notes', outcome: 'cleaned' })).toBe(2);
      expect(value(text, 'twinflow_chunks_total', { outcome: 'embedded' }) + value(text, 'twinflow_chunks_total', { outcome: 'reused' })).toBe(r.chunks);
      expect(value(text, 'twinflow_vectors_written_total')).toBe(r.vectors.written);
      expect(value(text, 'twinflow_activity_duration_seconds_count', { activity_type: 'embedPart' })).toBeGreaterThan(0);

      // JSON lines, with the ids of the activity or workflow they are about.
      const logs = jsonLines();
      const activityLine = logs.find((l) => l.message === 'Activity completed' && l.activityType === 'crawlSource');
      expect(activityLine).toMatchObject({ level: 'DEBUG', workflowId: `${workflowId}--source-notes`, workflowType: 'ingestSource', taskQueue });
      expect(activityLine!.activityId).toEqual(expect.any(String));
      expect(activityLine!.runId).toEqual(expect.any(String));
      // The workflow's own line comes through the workflow's log sink, which the worker flushes after the run's last
      // task: it may land just after the client has the result.
      const runId = (await handle.describe()).runId;
      await expect
        .poll(() => jsonLines().find((l) => l.message === 'Workflow completed' && l.workflowId === workflowId), { timeout: 10_000, interval: 200 })
        .toMatchObject({ workflowType: 'ingest', runId });

      // Spans of the workflow and its activities, exported over OTLP/HTTP.
      await expect.poll(() => spanNames(), { timeout: 20_000, interval: 500 }).toEqual(expect.arrayContaining(['RunWorkflow:ingest', 'RunActivity:crawlSource', 'RunActivity:embedPart']));
    } finally {
      await connection.close();
    }
  });
});
