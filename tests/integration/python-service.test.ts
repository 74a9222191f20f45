/**
 * Another service, in Python, starts twinflow's `ingest` by type name with one JSON input (examples/services/python,
 * the `temporalio` SDK from PyPI, installed into .twinflow/venv by scripts/setup-python.sh), against a real worker on
 * the test stack, and reads the result; a bad input fails the run at once and the service says why.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { createDeps, type Deps } from '../../activities/deps';
import { PROJECT_ROOT } from '../../lib/config';
import type { IngestResult } from '../../lib/schemas/ingest';
import { testConfig } from '../harness/stack';
import { withWorker } from '../harness/worker';

const PYTHON = path.join(PROJECT_ROOT, '.twinflow', 'venv', 'bin', 'python');
const SCRIPT = path.join(PROJECT_ROOT, 'examples', 'services', 'python', 'start_ingest.py');

let tmp: string;
let deps: Deps;
const config = () => testConfig({ LANCEDB_URI: path.join(tmp, 'lancedb') });

function runPython(args: string[], timeoutMs = 150_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // No TEMPORAL_* from the developer's shell: the flags say where to go.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_')));
    const child = spawn(PYTHON, [SCRIPT, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`start_ingest.py did not finish in ${timeoutMs / 1000}s; stderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-python-service-'));
  const probe = spawn(PYTHON, ['-c', 'import temporalio']);
  return new Promise<void>((resolve, reject) => {
    probe.on('error', () => reject(new Error(`no Python venv at ${PYTHON}: run scripts/setup-python.sh (make python)`)));
    probe.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`the venv at ${PYTHON} has no temporalio: run scripts/setup-python.sh (make python)`))));
  }).then(() => {
    deps = createDeps(config());
  });
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('a Python service (temporalio) starting ingest', () => {
  it('starts ingest by type name and JSON, and prints its result', async () => {
    const notes = path.join(tmp, 'notes');
    fs.mkdirSync(notes);
    fs.writeFileSync(path.join(notes, 'lichens.md'), `# Lichens\n\n${'A lichen is a fungus and an alga living as one organism on bare rock. '.repeat(10)}`);
    fs.writeFileSync(path.join(notes, 'mosses.md'), `# Mosses\n\n${'Mosses have no roots; they take water in through their leaves like a sponge. '.repeat(10)}`);
    const collection = `py-notes-${Date.now().toString(36)}`;
    const inputFile = path.join(tmp, 'ingest.json');
    fs.writeFileSync(inputFile, JSON.stringify({ collection, sources: [{ type: 'folder', id: 'notes', path: notes }] }));
    const cfg = config();

    await withWorker(cfg, createActivities(deps), async ({ client, taskQueue }) => {
      const workflowId = `python-ingest-${taskQueue}`;
      const run = await runPython(['--address', cfg.temporal.address, '--namespace', cfg.temporal.namespace, '--task-queue', taskQueue, '--workflow-id', workflowId, '--input', inputFile]);
      expect(run.stderr).toContain(`"workflowId": "${workflowId}"`);
      expect(run.code, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout) as IngestResult;
      expect(result.collection).toBe(collection);
      expect(result.documents).toMatchObject({ fetched: 2, loaded: 2 });
      // The run the service started is an ordinary twinflow run.
      const description = await client.workflow.getHandle(workflowId).describe();
      expect(description.type).toBe('ingest');
      expect(description.memo).toMatchObject({ summary: `ingest 1 source (folder "notes") into "${collection}"` });
    });
  });

  it('reports an invalid input with the field the workflow names', async () => {
    const inputFile = path.join(tmp, 'bad.json');
    fs.writeFileSync(inputFile, JSON.stringify({ collection: 'Not A Name', sources: [{ type: 'folder', id: 'notes', path: tmp }] }));
    const cfg = config();
    await withWorker(cfg, createActivities(deps), async ({ taskQueue }) => {
      const run = await runPython(['--address', cfg.temporal.address, '--task-queue', taskQueue, '--input', inputFile], 60_000);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('ingest failed');
      expect(run.stderr).toContain('collection');
    });
  });
});
