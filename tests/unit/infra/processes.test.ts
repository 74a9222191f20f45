/** infra/processes.ts: the one supervision of background processes both stack profiles use (real `sleep` processes). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commandLine, logFileOf, ownedPid, pidFileOf, recordedNames, runOnce, StackError, startDetached, stopProcess, waitFor } from '../../../infra/processes';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-processes-'));
afterAll(async () => {
  for (const name of recordedNames(dir)) await stopProcess(dir, name, 1_000);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('process supervision', () => {
  it('starts a process detached, records it, owns it by its marker, and stops it', async () => {
    const pid = startDetached(dir, { name: 'sleeper', command: 'sleep', args: ['300'] });
    expect(fs.readFileSync(pidFileOf(dir, 'sleeper'), 'utf8')).toBe(`${pid}\nsleep\n`);
    expect(fs.readFileSync(logFileOf(dir, 'sleeper'), 'utf8')).toMatch(/sleeper starting: sleep 300\n$/);
    expect(commandLine(pid)).toBe('sleep 300');
    expect(ownedPid(dir, 'sleeper')).toBe(pid);
    expect(recordedNames(dir)).toContain('sleeper');
    expect(await stopProcess(dir, 'sleeper', 5_000)).toBe(pid);
    // Gone, not a zombie: after `down` no process has that pid.
    expect(() => process.kill(pid, 0)).toThrow();
    expect(fs.existsSync(pidFileOf(dir, 'sleeper'))).toBe(false);
    expect(ownedPid(dir, 'sleeper')).toBeUndefined();
    expect(await stopProcess(dir, 'sleeper')).toBeUndefined();
  });

  it('never takes a live pid running something else for its own, and never signals it', async () => {
    const pid = startDetached(dir, { name: 'other', command: 'sleep', args: ['300'] });
    // The pid file of `recycled` names a live process, but its marker does not match that process's command line.
    fs.writeFileSync(pidFileOf(dir, 'recycled'), `${pid}\ntemporal-server\n`);
    expect(ownedPid(dir, 'recycled')).toBeUndefined();
    expect(await stopProcess(dir, 'recycled', 1_000)).toBeUndefined();
    expect(fs.existsSync(pidFileOf(dir, 'recycled'))).toBe(false);
    expect(commandLine(pid)).toBe('sleep 300');
    fs.writeFileSync(pidFileOf(dir, 'garbage'), 'not a pid\n');
    expect(ownedPid(dir, 'garbage')).toBeUndefined();
    expect(await stopProcess(dir, 'other', 5_000)).toBe(pid);
  });

  it('SIGKILLs a process that ignores SIGTERM once the grace time is up', async () => {
    const pid = startDetached(dir, { name: 'stubborn', command: 'sh', args: ['-c', 'trap "" TERM; while :; do sleep 0.1; done'], marker: 'trap' });
    await waitFor('stubborn', async () => commandLine(pid) !== undefined, 5_000);
    const started = Date.now();
    expect(await stopProcess(dir, 'stubborn', 500)).toBe(pid);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(commandLine(pid)).toBeUndefined();
  });

  it('waitFor returns once the check holds and throws a StackError with the log tail when it never does', async () => {
    let n = 0;
    await waitFor('three checks', async () => ++n >= 3, 5_000);
    expect(n).toBe(3);
    const log = path.join(dir, 'some.log');
    fs.writeFileSync(log, 'line 1\nline 2: the reason\n');
    const err = await waitFor('the service', async () => false, 300, log).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StackError);
    expect((err as Error).message).toBe(`the service was not ready within 0.3s; last lines of ${log}:\nline 1\nline 2: the reason\n`);
  });

  it('runOnce returns the output of a command, and throws a StackError with it when the command fails', () => {
    expect(runOnce('sh', ['-c', 'echo hi'], { what: 'echo' })).toBe('hi\n');
    expect(() => runOnce('sh', ['-c', 'echo broken >&2; exit 3'], { what: 'the step' })).toThrow(/^the step failed \(exit 3\): sh -c .*\nbroken$/s);
  });
});
