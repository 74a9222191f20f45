/**
 * The documented exit codes (docs/cli.md) of the real `twinflow` process (bin/twinflow), for what needs no server:
 * usage errors are 2 (commander's and ours), Temporal out of reach is 3 for every command that talks to it, and with
 * --json the error is also one JSON document on stdout. (1, 4 and 130 against the test stack:
 * tests/integration/runs/runs-cli.test.ts.)
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../lib/config';

const BIN = path.join(PROJECT_ROOT, 'bin', 'twinflow');

/** bin/twinflow with Temporal pointed at a closed port. */
function twinflow(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_') && !k.startsWith('TWINFLOW_')));
  return new Promise((resolve) => {
    execFile(BIN, args, { cwd: os.tmpdir(), env: { ...env, TEMPORAL_ADDRESS: '127.0.0.1:1' }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

describe('twinflow exit codes', () => {
  it('2 for bad usage: an unknown flag, a bad --status or --limit, a missing config file; with --json also a JSON error', async () => {
    const [unknown, status, limit, train] = await Promise.all([
      twinflow(['ingest', '--bogus']),
      twinflow(['runs', 'list', '--status', 'weird']),
      twinflow(['runs', 'list', '--limit', '0', '--json']),
      twinflow(['train', '--config', 'missing.json', '--json']),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: unknown option '--bogus'/);
    expect(status.code).toBe(2);
    expect(status.stderr.trim()).toBe('twinflow: --status: unknown status "weird" (expected running, completed, failed, cancelled, terminated, timed-out, continued-as-new, or deletions_held, awaiting_review)');
    expect(limit.code).toBe(2);
    expect(JSON.parse(limit.stdout)).toEqual({ error: { exitCode: 2, message: '--limit: expected a whole number from 1 to 1000, got "0"' } });
    expect(train.code).toBe(2);
    expect(JSON.parse(train.stdout)).toEqual({ error: { exitCode: 2, message: '--config missing.json: no such file' } });
  }, 60_000);

  it('stack status --json: one JSON document of the services, and 3 while they are not healthy', async () => {
    const dir = path.join(os.tmpdir(), `twinflow-no-stack-${process.pid}`);
    const r = await new Promise<{ code: number; stdout: string }>((resolve) => {
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_') && !k.startsWith('TWINFLOW_')));
      execFile(BIN, ['stack', 'status', '--json'], { cwd: os.tmpdir(), env: { ...env, TWINFLOW_STACK_DIR: dir, TWINFLOW_TEMPORAL_PORT: '1', TWINFLOW_MINIO_PORT: '2' }, timeout: 60_000 }, (err, stdout) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout }),
      );
    });
    expect(r.code).toBe(3);
    const services = JSON.parse(r.stdout) as Array<{ name: string; running: boolean; healthy: boolean }>;
    expect(services.map((s) => [s.name, s.running, s.healthy])).toEqual([
      ['temporal', false, false],
      ['minio', false, false],
    ]);
  }, 60_000);

  it('0 for --help', async () => {
    const r = await twinflow(['runs', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/list \[options\][\s\S]*show \[options\] <workflowId>[\s\S]*result \[options\] <workflowId>[\s\S]*cancel \[options\] <workflowId>/);
  }, 60_000);

  it('3 when Temporal cannot be reached, for runs and schedule commands alike, in one line', async () => {
    const [runs, schedule] = await Promise.all([twinflow(['runs', 'list', '--json']), twinflow(['schedule', 'status', '--collection', 'notes'])]);
    const line =
      'cannot reach Temporal at 127.0.0.1:1 (namespace default): Failed to connect before the deadline; start the local stack with `bin/twinflow stack up`, or set TEMPORAL_ADDRESS (and TEMPORAL_TLS / TEMPORAL_API_KEY for a cluster)';
    expect(runs.code).toBe(3);
    expect(runs.stderr.trim()).toBe(`twinflow: ${line}`);
    expect(JSON.parse(runs.stdout)).toEqual({ error: { exitCode: 3, message: line } });
    expect(schedule.code).toBe(3);
    expect(schedule.stderr.trim()).toBe(`twinflow: ${line}`);
  }, 60_000);
});
