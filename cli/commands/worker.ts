import type { Command } from 'commander';

// Workers are imported when run, so that light commands (stack, status) never load models or native modules.
export function registerWorkerCommands(program: Command): void {
  const worker = program.command('worker').description('run a Temporal worker in the foreground (stops gracefully on SIGINT/SIGTERM)');
  worker
    .command('cpu')
    .description('the CPU worker: all workflows and CPU activities')
    .action(async () => (await import('../../workers/cpu')).runCpuWorker());
  worker
    .command('gpu')
    .description('the GPU worker: fine-tune and generation activities on the GPU task queue')
    .action(async () => (await import('../../workers/gpu')).runGpuWorker());
}
