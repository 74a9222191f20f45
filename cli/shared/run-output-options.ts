/** --wait-for-worker and --json, shared by the commands that start a run (ingest, sync, train, eval). */
import type { Command } from 'commander';

export function addRunOutputOptions(command: Command): Command {
  return command
    .option('--wait-for-worker', 'when no worker polls the task queue, keep waiting for one instead of exiting with code 4')
    .option('--json', 'print one JSON document on stdout (the run, its status and result); progress goes to stderr');
}
