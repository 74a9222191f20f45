/**
 * The in-process workers of `train --with-workers`, `eval model --with-workers` and the demo (cli/shared/local-workers):
 * on the real test stack, the CPU worker runs workflows and CPU activities on the CPU queue, the GPU-queue worker
 * polls the GPU queue, and both stop when the function settles.
 */
import { randomUUID } from 'node:crypto';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { createDeps } from '../../../activities/deps';
import { createLocalWorkers, runWithWorkers } from '../../../cli/shared/local-workers';
import { TwinflowClient } from '../../../client';
import { testConfig, WORKFLOW_BUNDLE_PATH } from '../../harness/stack';

describe('cli/shared/local-workers on the test stack', () => {
  it('runs a CPU and a GPU-queue worker while the function runs, then stops both', async () => {
    try {
      Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
    } catch {
      // Installed already (another test file in this process).
    }
    const run = randomUUID().slice(0, 8);
    const config = testConfig({ TWINFLOW_TASK_QUEUE: `local-workers-${run}`, TWINFLOW_GPU_TASK_QUEUE: `local-workers-gpu-${run}`, TWINFLOW_WORKFLOW_BUNDLE: WORKFLOW_BUNDLE_PATH });
    const cpu = await NativeConnection.connect({ address: config.temporal.address });
    const gpu = await NativeConnection.connect({ address: config.temporal.address });
    const client = await TwinflowClient.connect(config);
    try {
      const workers = await createLocalWorkers(config, createDeps(config), { cpu, gpu });
      expect(workers).toHaveLength(2);
      const { missing, result } = await runWithWorkers(workers, async () => ({
        // train needs both queues polled: the CPU queue (workflow and activities) and the GPU queue.
        missing: await client.missingWorkers(client.workerNeeds('train'), 20_000),
        result: await client.client.workflow.execute('stackCheck', { taskQueue: config.temporal.taskQueue, workflowId: `local-workers-${run}`, args: [{ message: 'local' }] }),
      }));
      expect(missing).toEqual([]);
      expect((result as { roundTripOk: boolean }).roundTripOk).toBe(true);
      expect(workers.map((w) => w.getState())).toEqual(['STOPPED', 'STOPPED']);
    } finally {
      await client.close();
      await cpu.close();
      await gpu.close();
    }
  });

  it('without a GPU connection, runs the CPU worker only', async () => {
    const config = testConfig({ TWINFLOW_TASK_QUEUE: `local-workers-cpu-${randomUUID().slice(0, 8)}`, TWINFLOW_WORKFLOW_BUNDLE: WORKFLOW_BUNDLE_PATH });
    const cpu = await NativeConnection.connect({ address: config.temporal.address });
    try {
      const workers = await createLocalWorkers(config, createDeps(config), { cpu });
      expect(workers).toHaveLength(1);
      await expect(runWithWorkers(workers, async () => 'done')).resolves.toBe('done');
      expect(workers[0]!.getState()).toBe('STOPPED');
    } finally {
      await cpu.close();
    }
  });
});
