/** Activities of the `stackCheck` workflow: prove that a worker can reach the artifact store end to end. */
import { activityInfo } from '@temporalio/activity';
import type { Deps } from '../deps';

export interface ProbeResult {
  uri: string;
  bytes: number;
  roundTripOk: boolean;
  workflowId: string;
}

export function createDiagnosticsActivities({ artifacts }: Deps) {
  return {
    /** Writes a probe artifact keyed by the workflow run (a retry overwrites the same key), reads it back, compares. */
    async probeArtifactStore(input: { message: string }): Promise<ProbeResult> {
      const info = activityInfo();
      const run = info.workflowExecution ?? { workflowId: 'standalone', runId: info.activityId };
      const key = `runs/${run.workflowId}/${run.runId}/probe.json`;
      const value = { message: input.message, workflowId: run.workflowId, activityType: info.activityType };
      const ref = await artifacts.putJson(key, value);
      const back = await artifacts.getJson<typeof value>(ref.uri);
      return { uri: ref.uri, bytes: ref.bytes ?? 0, roundTripOk: JSON.stringify(back) === JSON.stringify(value), workflowId: value.workflowId };
    },
  };
}

export type DiagnosticsActivities = ReturnType<typeof createDiagnosticsActivities>;
