import type { Command } from 'commander';
import { ensureBinaries } from '../../infra/binaries';
import { clusterDown, clusterOptionsFromConfig, clusterStatus, clusterUp } from '../../infra/cluster';
import { stackDown, stackOptionsFromConfig, stackStatus, stackUp } from '../../infra/stack';
import { loadConfig } from '../../lib/config';
import { printJson } from '../follow';

export function registerStackCommands(program: Command): void {
  const stack = program
    .command('stack')
    .description('the local stack: Temporal dev server (with Web UI) and MinIO, no Docker; --profile cluster: the production-shaped cluster of docs/deploy.md');
  const profileOption = ['--profile <profile>', 'dev (Temporal dev server + MinIO) or cluster (Temporal server on PostgreSQL, MinIO, worker processes)', 'dev'] as const;
  const checkProfile = (profile: string): 'dev' | 'cluster' => {
    if (profile !== 'dev' && profile !== 'cluster') throw new Error(`unknown --profile "${profile}": expected dev or cluster`);
    return profile;
  };

  stack
    .command('install')
    .description('build and install the temporal CLI and MinIO into .twinflow/bin (skipped when present)')
    .action(async () => {
      const config = loadConfig();
      await ensureBinaries(config.home, (l) => console.log(l));
    });

  stack
    .command('up')
    .description('start Temporal and MinIO in the background, wait until healthy, create the buckets (cluster: also PostgreSQL and the workers)')
    .option(...profileOption)
    .action(async (opts: { profile: string }) => {
      const config = loadConfig();
      const status =
        checkProfile(opts.profile) === 'cluster'
          ? await clusterUp(clusterOptionsFromConfig(config), (l) => console.log(l))
          : await stackUp(stackOptionsFromConfig(config), (l) => console.log(l));
      printStatus(status);
    });

  stack
    .command('down')
    .description('stop the processes that `stack up` started (data is kept)')
    .option(...profileOption)
    .action(async (opts: { profile: string }) => {
      const config = loadConfig();
      if (checkProfile(opts.profile) === 'cluster') await clusterDown(clusterOptionsFromConfig(config), (l) => console.log(l));
      else await stackDown(stackOptionsFromConfig(config), (l) => console.log(l));
    });

  stack
    .command('status')
    .description('show whether each service runs and is healthy')
    .option('--json', 'print the services as one JSON document')
    .option(...profileOption)
    .action(async (opts: { json?: boolean; profile: string }) => {
      const config = loadConfig();
      const status =
        checkProfile(opts.profile) === 'cluster' ? await clusterStatus(clusterOptionsFromConfig(config)) : await stackStatus(stackOptionsFromConfig(config));
      if (opts.json) printJson(status);
      else printStatus(status);
      if (!status.every((s) => s.healthy)) process.exitCode = 3;
    });
}

function printStatus(status: Array<{ name: string; healthy: boolean; running: boolean; pid?: number; url: string; log: string }>): void {
  const width = Math.max(9, ...status.map((s) => s.name.length + 1));
  for (const s of status) {
    const state = s.healthy ? 'healthy' : s.running ? 'running, not healthy' : 'stopped';
    console.log(`${s.name.padEnd(width)} ${state.padEnd(22)} ${s.pid ? `pid ${s.pid}`.padEnd(11) : ''.padEnd(11)} ${s.url}   log: ${s.log}`);
  }
}
