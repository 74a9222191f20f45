/**
 * `twinflow demo`: the main job on the local stack, end to end. Brings the stack up (installing it the first time),
 * runs a CPU worker in this process, runs the pipeline through Temporal and prints where to look at the results.
 */
import type { Command } from 'commander';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the main job end to end on the local stack and print where to see the results')
    .action(async () => {
      const { runDemo } = await import('../demo');
      await runDemo();
    });
}

      console.log('==> local stack');
      await stackUp(stackOptionsFromConfig(config), (l) => console.log(`    ${l}`));

      console.log('==> worker');
      const connection = await connectWorker(config);
      const deps = createDeps(config);
      const worker = await createWorker({
        config,
        connection,
        taskQueue: config.temporal.taskQueue,
        activities: createActivities(deps),
        maxConcurrentActivities: config.temporal.maxConcurrentActivities,
        withWorkflows: true,
      });
      const client = await TwinflowClient.connect(config);
      try {
        await worker.runUntil(async () => {
          console.log('==> stackCheck: worker → activity → S3 write → S3 read');
          const { handle, result } = await client.stackCheck({ message: 'twinflow demo' }, { workflowId: 'demo-stack-check' });
          if (!result.roundTripOk) throw new Error(`artifact round trip failed: ${JSON.stringify(result)}`);
          console.log(`    ok: ${result.uri} (${result.bytes} bytes)`);
          console.log(`    run: ${client.uiUrl(handle.workflowId)}`);
        });
      } finally {
        await client.close();
        await connection.close();
      }
      console.log('\nTemporal Web UI: http://127.0.0.1:%d   MinIO console: http://127.0.0.1:%d (minioadmin / minioadmin)', config.stack.temporalUiPort, config.stack.minioConsolePort);
      console.log('Stop the stack with: make down');
    });
}
