/**
 * Starting a pipeline run from the command line and following it to its end (ingest, sync): connect, start, follow
 * with the progress bar and the worker check, close. The input is built before this is called, so a bad --config
 * fails before anything connects to Temporal.
 */
import { TwinflowClient } from '../../client';
import type { Config } from '../../lib/config';
import { type FollowOptions, followRun, type ProgressView } from '../follow';

export interface StartAndFollow<P, R> {
  workflowType: string;
  flags: FollowOptions<R>['flags'];
  /** Starts the run (or finds the one already running with the same workflow id). */
  start: (client: TwinflowClient) => Promise<FollowOptions<R>['handle'] & { workflowId: string; taskQueue: string }>;
  /** The bar's reading of a progress answer. */
  view: (progress: P) => ProgressView;
  format: (result: R) => string;
}

/** Returns the exit code, for process.exitCode. */
export async function startAndFollow<P, R>(config: Config, o: StartAndFollow<P, R>): Promise<number> {
  const client = await TwinflowClient.connect(config);
  try {
    const handle = await o.start(client);
    return await followRun<R>({
      client,
      workflowType: o.workflowType,
      handle,
      flags: o.flags,
      needs: client.workerNeeds(o.workflowType, handle.taskQueue),
      progress: async () => o.view((await client.progress(o.workflowType, handle.workflowId)) as P),
      format: o.format,
    });
  } finally {
    await client.close();
  }
}
