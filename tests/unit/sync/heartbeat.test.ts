import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { heartbeatWhile } from '../../../activities/sync/heartbeat';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('heartbeatWhile', () => {
  it('heartbeats while one long call runs, and stops when it ends', async () => {
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const result = await env.run(async () => heartbeatWhile(sleep(130).then(() => 'done'), 20, { written: 7 }));
    expect(result).toBe('done');
    expect(beats.length).toBeGreaterThanOrEqual(4);
    expect(beats.every((b) => (b as { written: number }).written === 7)).toBe(true);
    const count = beats.length;
    await sleep(60);
    expect(beats.length).toBe(count);
  });

  it('passes a failure through, stops beating, and is a plain await outside an activity', async () => {
    const env = new MockActivityEnvironment();
    let beats = 0;
    env.on('heartbeat', () => beats++);
    await expect(env.run(async () => heartbeatWhile(sleep(50).then(() => Promise.reject(new Error('store down'))), 10))).rejects.toThrow('store down');
    const count = beats;
    await sleep(40);
    expect(beats).toBe(count);
    await expect(heartbeatWhile(Promise.resolve(3), 10)).resolves.toBe(3);
  });
});
