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
import { PROJECT_ROOT } from '../../lib/config';
import { WORKFLOWS_PATH } from '../../workers/worker';
import { testConfig, testStackOptions, WORKFLOW_BUNDLE_PATH } from '../harness/stack';
import { withWorker } from '../harness/worker';

const OUT = path.join(PROJECT_ROOT, 'tests', 'replay', 'histories');

interface Recipe {
  /** File name: <workflowType>--<name>.json; the child workflows it starts are recorded too (by workflow id). */
  name: string;
  run(client: Client, taskQueue: string, workflowId: string): Promise<string[]>;
}

async function writeHistory(client: Client, workflowId: string, type: string, name: string): Promise<void> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const file = path.join(OUT, `${type}--${name}.json`);
  fs.writeFileSync(file, JSON.stringify(history));
  console.log(`recorded ${path.relative(PROJECT_ROOT, file)} (${history.events?.length ?? 0} events)`);
}

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
];

async function main(): Promise<void> {
  const filter = process.argv[2] ?? '';
  Runtime.install({ logger: new DefaultLogger('WARN') });
  await stackUp(testStackOptions(), () => undefined);
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
  fs.writeFileSync(WORKFLOW_BUNDLE_PATH, code);
  const config = testConfig({ LANCEDB_URI: fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-replay-lancedb-')) });
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
