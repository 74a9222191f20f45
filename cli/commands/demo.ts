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
