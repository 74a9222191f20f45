/**
 * The `twinflow` command (bin/twinflow, a real process) given input it cannot use: an ingest --config file that is
 * missing, a folder or not JSON; a --port that is not a port; a port that is already taken. Each exits with status 2
 * and one line on stderr saying what to change, no stack trace, and before any connection or model load it does not
 * need. (Bad configuration variables and flags: tests/unit/config.test.ts, tests/integration/stack-lifecycle.test.ts,
 * tests/integration/rag/cli.test.ts.)
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../lib/config';

const BIN = path.join(PROJECT_ROOT, 'bin', 'twinflow');
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-cli-bad-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs bin/twinflow with `args`; Temporal is pointed at a closed port, so anything that tried to connect would hang or fail differently. */
function twinflow(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(BIN, args, { cwd: dir, env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', LANCEDB_URI: path.join(dir, 'lancedb'), ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr, ms: performance.now() - started });
    });
  });
}

function expectOneLine(r: { code: number; stderr: string }, line: string): void {
  expect(r.code).toBe(2);
  expect(r.stderr.trim()).toBe(line);
}

describe('twinflow ingest --config', () => {
  it('names a config file that does not exist, or is a folder', async () => {
    expectOneLine(await twinflow(['ingest', '--config', 'missing.json']), 'twinflow: --config missing.json: no such file');
    expectOneLine(await twinflow(['ingest', '--config', dir]), `twinflow: --config ${dir}: is a folder, not a file`);
  }, 60_000);

  it('names a config file that is not JSON, with the parser’s position', async () => {
    fs.writeFileSync(path.join(dir, 'broken.json'), '{ "collection": "notes",\n  "sources": [ { "type": "folder", } ]\n}\n');
    const r = await twinflow(['ingest', '--config', 'broken.json']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^twinflow: --config broken\.json: not valid JSON: .*line 2/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);
});

describe('twinflow serve', () => {
  it('refuses a --port that is not a port, before loading any model', async () => {
    for (const port of ['abc', '70000']) {
      expectOneLine(await twinflow(['serve', '--port', port]), `twinflow: --port: expected a port number (0-65535), got "${port}"`);
    }
  }, 60_000);

  it('says which address is taken when the port is in use', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as net.AddressInfo;
    try {
      const r = await twinflow(['serve', '--host', '127.0.0.1', '--port', String(port)]);
      expectOneLine(r, `twinflow: 127.0.0.1:${port} is already in use: stop what listens there or choose another port (--port or TWINFLOW_API_PORT)`);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  }, 60_000);
});
