import type { Command } from 'commander';
import { ensureBinaries } from '../../infra/binaries';
import { stackDown, stackOptionsFromConfig, stackStatus, stackUp } from '../../infra/stack';
import { loadConfig } from '../../lib/config';
import { printJson } from '../follow';

export function registerStackCommands(program: Command): void {
  const stack = program.command('stack').description('the local stack: Temporal dev server (with Web UI) and MinIO, no Docker');

  stack
    .command('install')
    .description('build and install the temporal CLI and MinIO into .twinflow/bin (skipped when present)')
    .action(async () => {
      const config = loadConfig();
      await ensureBinaries(config.home, (l) => console.log(l));
    });

  stack
    .command('up')
    .description('start Temporal and MinIO in the background, wait until healthy, create the buckets')
    .action(async () => {
      const config = loadConfig();
      const status = await stackUp(stackOptionsFromConfig(config), (l) => console.log(l));
      printStatus(status);
    });

  stack
    .command('down')
    .description('stop the processes that `stack up` started (data is kept)')
    .action(async () => {
      await stackDown(stackOptionsFromConfig(loadConfig()), (l) => console.log(l));
    });

  stack
    .command('status')
    .description('show whether each service runs and is healthy')
    .option('--json', 'print the services as one JSON document')
    .action(async (opts: { json?: boolean }) => {
      const status = await stackStatus(stackOptionsFromConfig(loadConfig()));
      if (opts.json) printJson(status);
      else printStatus(status);
      if (!status.every((s) => s.healthy)) process.exitCode = 3;
    });
}

function printStatus(status: Awaited<ReturnType<typeof stackStatus>>): void {
  for (const s of status) {
    const state = s.healthy ? 'healthy' : s.running ? 'running, not healthy' : 'stopped';
    console.log(`${s.name.padEnd(9)} ${state.padEnd(22)} ${s.pid ? `pid ${s.pid}`.padEnd(11) : ''.padEnd(11)} ${s.url}   log: ${s.log}`);
  }
}
