/**
 * Records histories of the `twinflow-visibility` path (workflows/visibility.ts: the local activity that asks which
 * search attributes exist, the filtered upserts, the memo) next to the older recordings, which keep covering the
 * path of runs started before it. Each is recorded under a workflow id equal to its file name, so the replay test
 * needs no index entry for it.
 *
 *   node --import tsx tests/replay/record-visibility.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createActivities } from '../../activities';
import { createDeps } from '../../activities/deps';
import { PROJECT_ROOT } from '../../lib/config';
import { testConfig } from '../harness/stack';
import { withWorker } from '../harness/worker';
import { historyToJson } from './history-json';

const OUT = path.join(PROJECT_ROOT, 'tests', 'replay', 'histories');

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-replay-visibility-'));
  const config = testConfig({ LANCEDB_URI: path.join(tmp, 'lancedb') });
  const notes = path.join(tmp, 'notes');
  fs.mkdirSync(notes);
  fs.writeFileSync(path.join(notes, 'a.md'), `# Replay\n\n${'Replay tests keep running workflows safe across deploys. '.repeat(20)}`);
  fs.writeFileSync(path.join(notes, 'b.txt'), 'too short');
  const stamp = Date.now().toString(36);
  await withWorker(config, createActivities(createDeps(config)), async ({ client, taskQueue }) => {
    const record = async (workflowId: string, file: string) => {
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      fs.writeFileSync(path.join(OUT, file), historyToJson(history));
      console.log(`recorded ${file} (${history.events?.length ?? 0} events)`);
    };
    const recipes: Array<[string, string, unknown]> = [
      ['stackCheck', 'stackCheck--visibility.json', { message: 'replay' }],
      ['ingest', 'ingest--folder-visibility.json', { collection: `replay_vis_${stamp}`, sources: [{ type: 'folder', id: 'notes', path: notes }] }],
      ['sync', 'sync--folder-visibility.json', { collection: `replay_vis_sync_${stamp}`, sources: [{ type: 'folder', id: 'notes', path: notes }] }],
    ];
    for (const [type, file, input] of recipes) {
      // Workflow ids are unique per recording (the file name plus a stamp is not: the id must equal the file name).
      await client.workflow.getHandle(file).terminate('re-recording').catch(() => undefined);
      await client.workflow.execute(type, { taskQueue, workflowId: file, args: [input], workflowIdReusePolicy: 'ALLOW_DUPLICATE' });
      await record(file, file);
      if (type === 'ingest') await record(`${file}--source-notes`, 'ingestSource--folder-child-visibility.json');
    }
  });
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
