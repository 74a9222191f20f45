import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';

/** Production workers load a prebuilt bundle (TWINFLOW_WORKFLOW_BUNDLE) instead of bundling at every start. */
export function registerBundleCommand(program: Command): void {
  program
    .command('bundle')
    .description('build the workflow bundle ahead of time, for production workers (set TWINFLOW_WORKFLOW_BUNDLE to it)')
    .option('--out <file>', 'output file', 'dist/workflow-bundle.js')
    .action(async (opts: { out: string }) => {
      const { bundleWorkflowCode } = await import('@temporalio/worker');
      const { WORKFLOWS_PATH } = await import('../../workers/worker');
      const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
      fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
      fs.writeFileSync(opts.out, code);
      console.log(`wrote ${opts.out} (${(code.length / 1024 / 1024).toFixed(2)} MB)`);
    });
}
