/**
 * `twinflow stack up|down|status` as a user runs them (the real CLI in a subprocess), on ports of its own so it never
 * touches the shared test stack or a developer's stack.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/config';

const run = promisify(execFile);
const OFFSET = Number(process.env.TWINFLOW_TEST_PORT_OFFSET ?? 0);
const TEMPORAL_PORT = 27233 + OFFSET;
const dir = path.join(PROJECT_ROOT, '.twinflow', 'test-lifecycle-stack');
const env = {
  ...process.env,
  TWINFLOW_STACK_DIR: dir,
  TWINFLOW_TEMPORAL_PORT: String(TEMPORAL_PORT),
  TWINFLOW_TEMPORAL_UI_PORT: String(28233 + OFFSET),
  TWINFLOW_MINIO_PORT: String(29000 + OFFSET),
  TWINFLOW_MINIO_CONSOLE_PORT: String(29001 + OFFSET),
};
const cli = path.join(PROJECT_ROOT, 'bin', 'twinflow');

async function twinflow(args: string[], extraEnv: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(cli, args, { env: { ...env, ...extraEnv }, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function pidsOf(): number[] {
  return ['temporal', 'minio'].flatMap((s) => {
    try {
      return [Number(fs.readFileSync(path.join(dir, 'run', `${s}.pid`), 'utf8').split('\n')[0])];
    } catch {
      return [];
    }
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(async () => {
  await twinflow(['stack', 'down']);
});

describe('twinflow stack', () => {
  it('fails with one line naming the variable when a configuration value is bad', async () => {
    const r = await twinflow(['stack', 'status'], { TWINFLOW_MINIO_PORT: 'abc' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('TWINFLOW_MINIO_PORT: expected a port number (1-65535), got "abc"');
  });

  it('fails with one line saying what to change when a port is taken', async () => {
    const squatter = net.createServer().listen(TEMPORAL_PORT, '127.0.0.1');
    await new Promise((r) => squatter.once('listening', r));
    try {
      const r = await twinflow(['stack', 'up']);
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`port ${TEMPORAL_PORT} is already in use .*set TWINFLOW_TEMPORAL_PORT to a free port`));
      // Nothing was started: a busy port leaves no half-started stack behind.
      expect(pidsOf()).toEqual([]);
    } finally {
      await new Promise((r) => squatter.close(r));
      await twinflow(['stack', 'down']);
    }
  });

  it('up → down stops every process it started; up again keeps the workflow history', async () => {
    const up = await twinflow(['stack', 'up']);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/temporal\s+healthy/);
    expect(up.stdout).toMatch(/minio\s+healthy/);
    const pids = pidsOf();
    expect(pids).toHaveLength(2);

    // A second `up` reuses the running stack.
    const again = await twinflow(['stack', 'up']);
    expect(again.stdout).toContain('temporal: already running');
    expect(pidsOf()).toEqual(pids);

    // Leave a workflow in the history (no worker needed: it just stays scheduled).
    const workflowId = `lifecycle-${Date.now()}`;
    let connection = await Connection.connect({ address: `127.0.0.1:${TEMPORAL_PORT}` });
    await new Client({ connection }).workflow.start('stackCheck', { taskQueue: 'nobody-polls', workflowId, args: [{}] });
    await connection.close();

    const down = await twinflow(['stack', 'down']);
    expect(down.code, down.stderr).toBe(0);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    const status = await twinflow(['stack', 'status']);
    expect(status.code).toBe(3);
    expect(status.stdout).toMatch(/temporal\s+stopped/);

    expect((await twinflow(['stack', 'up'])).code).toBe(0);
    connection = await Connection.connect({ address: `127.0.0.1:${TEMPORAL_PORT}` });
    const described = await new Client({ connection }).workflow.getHandle(workflowId).describe();
    expect(described.workflowId).toBe(workflowId);
    await new Client({ connection }).workflow.getHandle(workflowId).terminate('test done');
    await connection.close();
  });
});
