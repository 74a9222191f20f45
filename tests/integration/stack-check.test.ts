import { WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { createDeps } from '../../activities/deps';
import { createDiagnosticsActivities } from '../../activities/diagnostics';
import { testConfig } from '../harness/stack';
import { withWorker } from '../harness/worker';

describe('stackCheck workflow on a real worker', () => {
  const config = testConfig();
  const deps = createDeps(config);

  it('writes an artifact to MinIO from an activity and reads it back', async () => {
    const result = await withWorker(config, createDiagnosticsActivities(deps), async ({ client, taskQueue }) =>
      client.workflow.execute('stackCheck', { taskQueue, workflowId: `stack-check-${taskQueue}`, args: [{ message: 'integration' }] }),
    );
    expect(result.roundTripOk).toBe(true);
    expect(result.uri).toMatch(/^s3:\/\/twinflow-test\/runs\/stack-check-test-.+\/probe\.json$/);
    expect(await deps.artifacts.getJson(result.uri)).toMatchObject({ message: 'integration', activityType: 'probeArtifactStore' });
  });

  it('rejects a bad input at once, naming the field, without retrying', async () => {
    await withWorker(config, createDiagnosticsActivities(deps), async ({ client, taskQueue }) => {
      const err = await client.workflow
        .execute('stackCheck', { taskQueue, workflowId: `stack-check-bad-${taskQueue}`, args: [{ message: 42 }] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const cause = (err as WorkflowFailedError).cause as { message: string; nonRetryable?: boolean; type?: string };
      expect(cause.message).toMatch(/invalid stackCheck input: message: /);
      expect(cause.nonRetryable).toBe(true);
      expect(cause.type).toBe('InvalidInput');
    });
  });
});
