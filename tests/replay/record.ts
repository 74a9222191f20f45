/**
 * Records one real history of each workflow type into tests/replay/histories/<type>--<name>.json, for the replay
 * test. Runs the workflows on the test stack (started if needed) with a real worker and small inputs.
 *
 *   node --import tsx tests/replay/record.ts            # all recipes
 *   node --import tsx tests/replay/record.ts ingest     # recipes whose name starts with "ingest"
 *
 * Re-record only when a workflow changed in a way that is compatible for runs in flight (or is patched); keep the
 * old file next to the new one when the change is guarded by patched(), so both paths stay covered.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createDeps } from '../../activities/deps';
import { stackUp } from '../../infra/stack';
import { ArtifactStore } from '../../lib/artifacts';
import { PROJECT_ROOT } from '../../lib/config';
import { objectsChangedSignalName, syncOnEventsWorkflowId } from '../../lib/schemas/sync';
import { WORKFLOWS_PATH } from '../../workers/worker';
import { testConfig, testStackOptions, WORKFLOW_BUNDLE_PATH } from '../harness/stack';
import { withWorker } from '../harness/worker';
import { historyToJson } from './history-json';

const OUT = path.join(PROJECT_ROOT, 'tests', 'replay', 'histories');
const WORKFLOW_IDS = path.join(OUT, 'workflow-ids.json');

function readWorkflowIds(): Record<string, string> {
  return fs.existsSync(WORKFLOW_IDS) ? (JSON.parse(fs.readFileSync(WORKFLOW_IDS, 'utf8')) as Record<string, string>) : {};
}

interface Recipe {
  /** File name: <workflowType>--<name>.json; the child workflows it starts are recorded too (by workflow id). */
  name: string;
  run(client: Client, taskQueue: string, workflowId: string): Promise<string[]>;
}

async function writeHistory(client: Client, workflowId: string, type: string, name: string): Promise<void> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const file = path.join(OUT, `${type}--${name}.json`);
  fs.writeFileSync(file, historyToJson(history));
  // Replay needs the original workflow id (child workflow ids and keys derive from it); the history has none.
  const index = readWorkflowIds();
  index[path.basename(file)] = workflowId;
  fs.writeFileSync(WORKFLOW_IDS, `${JSON.stringify(index, Object.keys(index).sort(), 2)}\n`);
  console.log(`recorded ${path.relative(PROJECT_ROOT, file)} (${history.events?.length ?? 0} events)`);
}

/** The LanceDB folder of the recording worker (recipes that read the store use it too). */
let recordingLanceDb = '';

export const RECIPES: Recipe[] = [
  {
    name: 'stackCheck--basic',
    async run(client, taskQueue, workflowId) {
      await client.workflow.execute('stackCheck', { taskQueue, workflowId, args: [{ message: 'replay' }] });
      return [workflowId];
    },
  },
  {
    name: 'ingest--folder',
    async run(client, taskQueue, workflowId) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-replay-'));
      fs.writeFileSync(path.join(dir, 'a.md'), `# Replay\n\n${'Replay tests keep running workflows safe across deploys. '.repeat(20)}`);
      fs.writeFileSync(path.join(dir, 'b.txt'), 'too short');
      await client.workflow.execute('ingest', {
        taskQueue,
        workflowId,
        args: [{ collection: 'replay', sources: [{ type: 'folder', id: 'notes', path: dir }] }],
      });
      fs.rmSync(dir, { recursive: true, force: true });
      return [workflowId, `${workflowId}--source-notes`];
    },
  },
  {
    name: 'sync--folder',
    async run(client, taskQueue, workflowId) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-replay-'));
      fs.writeFileSync(path.join(dir, 'a.md'), `# Replay\n\n${'Change data capture keeps the store equal to its sources. '.repeat(20)}`);
      await client.workflow.execute('sync', {
        taskQueue,
        workflowId,
        args: [{ collection: `replay_sync_${Date.now()}`, sources: [{ type: 'folder', id: 'notes', path: dir }] }],
      });
      fs.rmSync(dir, { recursive: true, force: true });
      return [workflowId];
    },
  },
  {
    // The push debouncer: one signal-with-start, one sync for the signalled key (its child is recorded too).
    name: 'syncOnEvents--inbox',
    async run(client, taskQueue) {
      const config = testConfig();
      const artifacts = ArtifactStore.fromConfig(config);
      const prefix = `replay-inbox-${Date.now()}/`;
      await artifacts.putBytes(`${prefix}a.md`, `# Pushed\n\n${'A document dropped into the inbox is synced within seconds. '.repeat(10)}`);
      const collection = `replay_push_${Date.now()}`;
      const sync = { collection, sources: [{ type: 's3' as const, id: 'inbox', prefix }] };
      const workflowId = syncOnEventsWorkflowId(collection);
      const handle = await client.workflow.signalWithStart('syncOnEvents', {
        taskQueue,
        workflowId,
        args: [{ sync, quietMs: 200, idleMs: 1000 }],
        signal: objectsChangedSignalName,
        signalArgs: [{ sourceId: 'inbox', keys: [`${prefix}a.md`] }],
      });
      await handle.result();
      await artifacts.deletePrefix(prefix);
      return [workflowId, `${workflowId}--sync-1`];
    },
  },
  {
    // Evaluation in batches: 3 queries, batches of 2, over a collection the recipe ingests first.
    name: 'evalRetrieval--batches',
    async run(client, taskQueue, workflowId) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-replay-'));
      fs.writeFileSync(path.join(dir, 'otters.md'), `# Otters\n\n${'Sea otters hold hands while they sleep so that they do not drift apart. '.repeat(10)}`);
      fs.writeFileSync(path.join(dir, 'kilns.md'), `# Kilns\n\n${'A pottery kiln fires clay at over a thousand degrees until it vitrifies. '.repeat(10)}`);
      const collection = `replay_eval_${Date.now()}`;
      await client.workflow.execute('ingest', { taskQueue, workflowId: `${workflowId}-ingest`, args: [{ collection, sources: [{ type: 'folder', id: 'notes', path: dir }] }] });
      fs.rmSync(dir, { recursive: true, force: true });
      const store = createDeps(testConfig({ LANCEDB_URI: recordingLanceDb })).vectorStore();
      const docIds = new Map<string, string>();
      for await (const p of (await store).scroll(collection)) docIds.set(path.basename(p.payload.location), p.payload.docId);
      const queries = [
        { id: 'otters', query: 'why do otters hold hands', relevantDocIds: [docIds.get('otters.md')] },
        { id: 'kilns', query: 'kiln temperature', relevantDocIds: [docIds.get('kilns.md')] },
        { id: 'both', query: 'animals and pottery', relevantDocIds: [...docIds.values()] },
      ];
      const artifacts = ArtifactStore.fromConfig(testConfig());
      const set = await artifacts.putBytes(`replay/${workflowId}/queries.jsonl`, queries.map((q) => JSON.stringify(q)).join('\n'));
      await client.workflow.execute('evalRetrieval', { taskQueue, workflowId, args: [{ queries: set.uri, collections: [collection], configs: ['vector', 'hybrid'], batchSize: 2 }] });
      return [workflowId];
    },
  },
];

async function main(): Promise<void> {
  const filter = process.argv[2] ?? '';
  Runtime.install({ logger: new DefaultLogger('WARN') });
  await stackUp(testStackOptions(), () => undefined);
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
  fs.writeFileSync(WORKFLOW_BUNDLE_PATH, code);
  recordingLanceDb = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-replay-lancedb-'));
  const config = testConfig({ LANCEDB_URI: recordingLanceDb });
  fs.mkdirSync(OUT, { recursive: true });
  await withWorker(config, createActivities(createDeps(config)), async ({ client, taskQueue }) => {
    for (const recipe of RECIPES.filter((r) => r.name.startsWith(filter))) {
      const [type, name] = recipe.name.split('--') as [string, string];
      const workflowId = `replay-${recipe.name}-${Date.now()}`;
      const ids = await recipe.run(client, taskQueue, workflowId);
      await writeHistory(client, ids[0]!, type, name);
      for (const child of ids.slice(1)) {
        const childType = (await client.workflow.getHandle(child).describe()).type;
        await writeHistory(client, child, childType, `${name}-child`);
      }
    }
  });
}

await main();
