import type { Command } from 'commander';
import { runCpuWorker } from '../../workers/cpu';
import { runGpuWorker } from '../../workers/gpu';

export function registerWorkerCommands(program: Command): void {
  const worker = program.command('worker').description('run a Temporal worker in the foreground (stops gracefully on SIGINT/SIGTERM)');
  worker.command('cpu').description('the CPU worker: all workflows and CPU activities').action(runCpuWorker);
  worker.command('gpu').description('the GPU worker: fine-tune and generation activities on the GPU task queue').action(runGpuWorker);
}
