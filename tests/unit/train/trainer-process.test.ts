/**
 * runTrainer against stand-in "trainers": small shell scripts that speak the trainer's stdout contract (JSON event
 * lines, exit codes), so the process handling is tested on real processes without loading torch.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTrainer, TrainerError, type TrainerEvent } from '../../../activities/gpu/trainer-process';
import { alive } from '../../helpers/process';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-trainer-proc-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function fakeTrainer(name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

const base = (python: string) => ({ python, command: 'train' as const, configPath: '/dev/null', cwd: dir, logFile: path.join(dir, 'log.txt'), killGraceMs: 2000 });

describe('runTrainer', () => {
  it('delivers JSON events in order, ignores stray stdout and returns the done event', async () => {
    const python = fakeTrainer(
      'ok.sh',
      `echo '{"event":"start","max_steps":2}'
echo 'a stray print'
echo '{"event":"progress","step":1,"loss":2.5}'
echo 'log line' >&2
echo '{"event":"done","adapter_dir":"/tmp/a","metrics":{"global_step":2}}'`,
    );
    const seen: TrainerEvent[] = [];
    const r = await runTrainer({ ...base(python), onEvent: async (e) => void seen.push(e) });
    expect(seen.map((e) => e.event)).toEqual(['start', 'progress', 'done']);
    expect(r).toEqual({ done: { event: 'done', adapter_dir: '/tmp/a', metrics: { global_step: 2 } }, exitCode: 0 });
    expect(fs.readFileSync(path.join(dir, 'log.txt'), 'utf8')).toContain('log line');
  });

  it('reports a config error (exit 2) as such, with the trainer message', async () => {
    const python = fakeTrainer('bad.sh', `echo '{"event":"error","message":"invalid config: lora.r: must be > 0","type":"config"}'; exit 2`);
    const err = await runTrainer({ ...base(python), onEvent: () => undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainerError);
    expect(err).toMatchObject({ kind: 'config', exitCode: 2, message: 'invalid config: lora.r: must be > 0' });
  });

  it('reports a crash as a runtime error with the log tail', async () => {
    const python = fakeTrainer('crash.sh', `echo 'Traceback: CUDA out of memory' >&2; kill -9 $$`);
    const err = (await runTrainer({ ...base(python), onEvent: () => undefined }).catch((e: unknown) => e)) as TrainerError;
    expect(err.kind).toBe('runtime');
    expect(err.message).toMatch(/trainer exited with SIGKILL without a result/);
    expect(err.message).toContain('CUDA out of memory');
  });

  it('on abort stops the whole process group, SIGKILL after the grace period when SIGTERM is ignored', async () => {
    // The "trainer" ignores SIGTERM and leaves a child of its own (like a data loader worker).
    const python = fakeTrainer(
      'stubborn.sh',
      `trap '' TERM
sleep 300 &
echo "{\\"event\\":\\"child\\",\\"pid\\":$!}"
echo '{"event":"progress","step":1}'
while true; do sleep 1; done`,
    );
    const controller = new AbortController();
    let pid = 0;
    let child = 0;
    const started = Date.now();
    const err = await runTrainer({
      ...base(python),
      killGraceMs: 300,
      signal: controller.signal,
      onSpawn: (p) => (pid = p),
      onEvent: (e) => {
        if (e.event === 'child') child = Number(e.pid);
        if (e.event === 'progress') controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'cancelled' });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(pid).toBeGreaterThan(0);
    expect(child).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
    // The grandchild was in the same process group: it got the SIGKILL too.
    expect(alive(child)).toBe(false);
  });

  it('fails clearly when the trainer Python does not exist', async () => {
    await expect(runTrainer({ ...base('/nonexistent/python'), onEvent: () => undefined })).rejects.toMatchObject({ kind: 'config', message: expect.stringMatching(/TWINFLOW_TRAINER_PYTHON/) });
  });
});
