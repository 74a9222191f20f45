/**
 * `twinflow demo`: the whole story on the local stack, end to end and idempotent. Brings the stack up (installing it
 * the first time), runs a CPU and a GPU-queue worker in this process, then: the feature pipeline of four sources,
 * change data capture (an edit, a deletion and an addition, synced and restored), a tiny training run on CPU,
 * retrieval with sources, and the Web UI link of every run (see cli/demo.ts).
 */
import type { Command } from 'commander';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the whole story on the local stack (ingest, change data capture, training, retrieval); a second run changes nothing')
    .option('--no-train', 'skip the training step')
    .action(async (flags: { train: boolean }) => {
      const { runDemo } = await import('../demo');
      await runDemo({ train: flags.train });
    });
}
