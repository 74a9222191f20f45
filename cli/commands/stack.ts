import type { Command } from 'commander';
import { ensureBinaries } from '../../infra/binaries';
import { clusterDown, clusterOptionsFromConfig, clusterStatus, clusterUp } from '../../infra/cluster';
import { stackDown, stackOptionsFromConfig, stackStatus, stackUp } from '../../infra/stack';
import { type Config, loadConfig } from '../../lib/config';
import { printJson } from '../follow';

export function registerStackCommands(program: Command): void {
  const stack = program
    .command('stack')
    .description('the local stack: Temporal dev server (with Web UI) and MinIO, no Docker; --profile cluster: the production-shaped cluster of docs/deploy.md');
  const profileOption = ['--profile <profile>', 'dev (Temporal dev server + MinIO) or cluster (Temporal server on PostgreSQL, MinIO, worker processes)', 'dev'] as const;

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
      printStatus(await profileOf(opts.profile, loadConfig()).up((l) => console.log(l)));
    });

  stack
    .command('down')
    .description('stop the processes that `stack up` started (data is kept)')
    .option(...profileOption)
    .action(async (opts: { profile: string }) => {
      await profileOf(opts.profile, loadConfig()).down((l) => console.log(l));
    });

  stack
    .command('status')
    .description('show whether each service runs and is healthy')
    .option('--json', 'print the services as one JSON document')
    .option(...profileOption)
    .action(async (opts: { json?: boolean; profile: string }) => {
      const status = await profileOf(opts.profile, loadConfig()).status();
      if (opts.json) printJson(status);
      else printStatus(status);
      if (!status.every((s) => s.healthy)) process.exitCode = 3;
    });
}

type ServiceStatus = { name: string; healthy: boolean; running: boolean; pid?: number; url: string; log: string };

interface Profile {
  up: (log: (line: string) => void) => Promise<ServiceStatus[]>;
  down: (log: (line: string) => void) => Promise<void>;
  status: () => Promise<ServiceStatus[]>;
}

/** What `stack up|down|status` do under --profile: the dev stack or the cluster, each with the options its config gives. */
function profileOf(profile: string, config: Config): Profile {
  if (profile === 'cluster') {
    const options = clusterOptionsFromConfig(config);
    return { up: (log) => clusterUp(options, log), down: (log) => clusterDown(options, log), status: () => clusterStatus(options) };
  }
  if (profile !== 'dev') throw new Error(`unknown --profile "${profile}": expected dev or cluster`);
  const options = stackOptionsFromConfig(config);
  return { up: (log) => stackUp(options, log), down: (log) => stackDown(options, log), status: () => stackStatus(options) };
}

function printStatus(status: ServiceStatus[]): void {
  const width = Math.max(9, ...status.map((s) => s.name.length + 1));
  for (const s of status) {
    const state = s.healthy ? 'healthy' : s.running ? 'running, not healthy' : 'stopped';
    console.log(`${s.name.padEnd(width)} ${state.padEnd(22)} ${s.pid ? `pid ${s.pid}`.padEnd(11) : ''.padEnd(11)} ${s.url}   log: ${s.log}`);
  }
}
