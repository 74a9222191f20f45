/**
 * twinflow on a Temporal server that has none of its search attributes (any existing cluster, Temporal Cloud): a
 * second dev server, started from the same `temporal` binary as the stack but without --search-attribute flags.
 *
 * - Where the worker may not register them (TWINFLOW_REGISTER_SEARCH_ATTRIBUTES=false, as on Cloud), it says so once
 *   with the commands to run, and `ingest` completes untagged (it used to fail every workflow task with
 *   BadSearchAttributes, for ever).
 * - Where it may (a dev server, operator rights), it registers them at start and the run is tagged.
 * - A run started by the code before this change, stuck on BadSearchAttributes, completes once a current worker
 *   takes it over.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { createDeps, type Deps } from '../../activities/deps';
import { SEARCH_ATTRIBUTES } from '../../infra/stack';
import { BINARIES } from '../../infra/binaries';
import { PROJECT_ROOT } from '../../lib/config';
import type { IngestInput, IngestResult } from '../../lib/schemas/ingest';
import { ensureSearchAttributes } from '../../workers/search-attributes';
import { createWorker } from '../../workers/worker';
import { testConfig } from '../harness/stack';
import { withWorker } from '../harness/worker';

const TEMPORAL_BIN = path.join(PROJECT_ROOT, '.twinflow', 'bin', `temporal-${BINARIES.temporal.version}`);
/** The last commit whose workflows upserted search attributes unconditionally. */
const OLD_CODE_COMMIT = 'd4c8ca06bc7796443b3bfa209779f39179cb5d24';
const NAMES = Object.keys(SEARCH_ATTRIBUTES);

let env: TestWorkflowEnvironment;
let tmp: string;
let notes: string;
let deps: Deps;

const config = (namespace: string) => testConfig({ TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: namespace, LANCEDB_URI: path.join(tmp, 'lancedb') });

function ingestInput(collection: string): IngestInput {
  return { collection, sources: [{ type: 'folder', id: 'notes', path: notes }] };
}

async function customAttributes(namespace: string): Promise<string[]> {
  const res = await env.connection.operatorService.listSearchAttributes({ namespace });
  return Object.keys(res.customAttributes ?? {});
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-no-sa-'));
  notes = path.join(tmp, 'notes');
  fs.mkdirSync(notes);
  fs.writeFileSync(path.join(notes, 'capybaras.md'), `# Capybaras\n\n${'Capybaras graze in the wetlands at dusk and rest in the shallows at noon. '.repeat(12)}`);
  fs.writeFileSync(path.join(notes, 'herons.md'), `# Herons\n\n${'Grey herons stand still for minutes before they strike at a passing fish. '.repeat(12)}`);
  env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: TEMPORAL_BIN }, ip: '127.0.0.1', extraArgs: ['--namespace', 'checkonly', '--namespace', 'stuck'] },
  });
  deps = createDeps(config('default'));
}, 120_000);

afterAll(async () => {
  await env?.teardown();
  delete process.env.TWINFLOW_REGISTER_SEARCH_ATTRIBUTES;
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('a Temporal server without twinflow search attributes', () => {
  it('runs ingest untagged where the worker may not register them, and says so once', async () => {
    expect(await customAttributes('checkonly')).toEqual([]);
    process.env.TWINFLOW_REGISTER_SEARCH_ATTRIBUTES = 'false';
    const cfg = config('checkonly');
    const warnings: string[] = [];
    const native = await NativeConnection.connect({ address: env.address });
    const check = await ensureSearchAttributes(native, env.address, { namespace: 'checkonly', register: false, warn: (m) => warnings.push(m) });
    await native.close();
    expect(check.available).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('search attributes unavailable in namespace "checkonly"');
    expect(warnings[0]).toContain('temporal operator search-attribute create --namespace checkonly --name TwinflowCollection --type Keyword');

    const { result, description, history } = await withWorker(cfg, createActivities(deps), async ({ client, taskQueue }) => {
      const handle = await client.workflow.start('ingest', { taskQueue, workflowId: `no-sa-${taskQueue}`, args: [ingestInput('no-sa-notes')] });
      const result = (await Promise.race([handle.result(), sleep(120_000).then(() => Promise.reject(new Error('ingest did not finish in 120 s')))])) as IngestResult;
      return { result, description: await handle.describe(), history: await handle.fetchHistory() };
    });
    expect(result.documents.loaded).toBe(2);
    expect(result.vectors.written).toBeGreaterThan(0);
    // Not one workflow task failed: nothing was ever upserted that the server does not know.
    expect(history.events?.filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
    expect(Object.keys(description.searchAttributes).filter((k) => k.startsWith('Twinflow'))).toEqual([]);
    // The memo needs no registration: the input's summary is there.
    expect(description.memo).toMatchObject({ summary: 'ingest 1 source (folder "notes") into "no-sa-notes"' });
    expect(await customAttributes('checkonly')).toEqual([]);
    delete process.env.TWINFLOW_REGISTER_SEARCH_ATTRIBUTES;
  });

  it('registers them at start where it may, and tags the run', async () => {
    expect(await customAttributes('default')).toEqual([]);
    const { result, description } = await withWorker(config('default'), createActivities(deps), async ({ client, taskQueue }) => {
      const handle = await client.workflow.start('ingest', { taskQueue, workflowId: `register-sa-${taskQueue}`, args: [ingestInput('sa-notes')] });
      const result = (await Promise.race([handle.result(), sleep(120_000).then(() => Promise.reject(new Error('ingest did not finish in 120 s')))])) as IngestResult;
      return { result, description: await handle.describe() };
    });
    expect(result.documents.loaded).toBe(2);
    expect((await customAttributes('default')).sort()).toEqual([...NAMES].sort());
    expect(description.searchAttributes).toMatchObject({
      TwinflowPipeline: ['ingest'],
      TwinflowCollection: ['sa-notes'],
      TwinflowSource: ['notes'],
      TwinflowSourceType: ['folder'],
    });
  });

  const oldCode = (() => {
    try {
      execFileSync('git', ['cat-file', '-e', `${OLD_CODE_COMMIT}^{commit}`], { cwd: PROJECT_ROOT, stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!oldCode)('finishes a run that the old code left stuck on BadSearchAttributes', async () => {
    // The workflows as they were (they upserted unconditionally), bundled beside the project so imports resolve.
    fs.mkdirSync(path.join(PROJECT_ROOT, '.twinflow', 'scratch'), { recursive: true });
    const dir = fs.mkdtempSync(path.join(PROJECT_ROOT, '.twinflow', 'scratch', 'old-workflows-'));
    try {
      const archive = execFileSync('git', ['archive', OLD_CODE_COMMIT, 'workflows', 'lib/schemas'], { cwd: PROJECT_ROOT, maxBuffer: 64 * 1024 * 1024 });
      execFileSync('tar', ['-x', '-C', dir], { input: archive });
      const { code } = await bundleWorkflowCode({ workflowsPath: path.join(dir, 'workflows', 'index.ts'), logger: undefined });
      const oldBundle = path.join(dir, 'bundle.js');
      fs.writeFileSync(oldBundle, code);

      process.env.TWINFLOW_REGISTER_SEARCH_ATTRIBUTES = 'false';
      const cfg = config('stuck');
      const taskQueue = `stuck-${Date.now()}`;
      const workflowId = `stuck-ingest-${taskQueue}`;
      const connection = await Connection.connect({ address: env.address });
      const client = new Client({ connection, namespace: 'stuck' });
      const native = await NativeConnection.connect({ address: env.address });
      try {
        // The old code on a worker: its workflow task that upserts is rejected by the server, again and again.
        const old = await createWorker({
          config: cfg,
          connection: native,
          taskQueue,
          activities: createActivities(deps),
          maxConcurrentActivities: 4,
          withWorkflows: true,
          workflowBundle: { codePath: oldBundle },
          shutdownGraceTime: '1 second',
        });
        const handle = await old.runUntil(async () => {
          const h = await client.workflow.start('ingest', { taskQueue, workflowId, args: [ingestInput('stuck-notes')] });
          await expect
            .poll(async () => ((await h.fetchHistory()).events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).map((e) => e.workflowTaskFailedEventAttributes?.failure?.message ?? ''), {
              timeout: 60_000,
              interval: 500,
            })
            .toContainEqual(expect.stringMatching(/search attribute/i));
          return h;
        });
        // A current worker takes the same queue over: the run finishes.
        const result = await withWorker(cfg, createActivities(deps), () =>
          Promise.race([handle.result(), sleep(150_000).then(() => Promise.reject(new Error('the stuck run did not finish in 150 s')))]),
        { taskQueue });
        expect(result.documents.loaded).toBe(2);
        expect((await handle.describe()).memo).toMatchObject({ summary: 'ingest 1 source (folder "notes") into "stuck-notes"' });
      } finally {
        await connection.close();
        await native.close();
      }
    } finally {
      delete process.env.TWINFLOW_REGISTER_SEARCH_ATTRIBUTES;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
