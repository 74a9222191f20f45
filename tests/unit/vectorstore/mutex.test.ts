import { describe, expect, it } from 'vitest';
import { KeyedMutex } from '../../../lib/vectorstore/mutex';
import { validateName } from '../../../lib/vectorstore/names';

describe('KeyedMutex', () => {
  it('runs holders of one key one at a time, in call order, and other keys alongside', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    let active = 0;
    let peak = 0;
    let open!: () => void;
    const gate = { promise: new Promise<void>((resolve) => (open = resolve)), resolve: () => open() };
    const job = (key: string, name: string, wait?: Promise<void>) =>
      mutex.run(key, async () => {
        active += key === 'a' ? 1 : 0;
        peak = Math.max(peak, active);
        log.push(`start ${name}`);
        if (wait) await wait;
        await Promise.resolve();
        log.push(`end ${name}`);
        active -= key === 'a' ? 1 : 0;
        return name;
      });
    const first = job('a', 'a1', gate.promise);
    const second = job('a', 'a2');
    const other = job('b', 'b1');
    expect(await other).toBe('b1'); // not blocked by a1, which is still waiting
    expect(log).toEqual(['start a1', 'start b1', 'end b1']);
    gate.resolve();
    expect(await Promise.all([first, second])).toEqual(['a1', 'a2']);
    expect(log.slice(3)).toEqual(['end a1', 'start a2', 'end a2']);
    expect(peak).toBe(1);
  });

  it('releases the key when a holder throws', async () => {
    const mutex = new KeyedMutex();
    await expect(mutex.run('k', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await mutex.run('k', async () => 'next')).toBe('next');
  });
});

describe('validateName', () => {
  it('accepts store-safe names and rejects the rest, naming the problem', () => {
    for (const ok of ['chunks', 'chunks_v2', '_embcache_ab12', 'a.b-c']) expect(() => validateName('collection', ok)).not.toThrow();
    expect(() => validateName('collection', '../etc')).toThrow(/Invalid collection name "..\/etc"/);
    expect(() => validateName('alias', 'has space')).toThrow(/Invalid alias name/);
    expect(() => validateName('collection', '')).toThrow(/Invalid collection name/);
    expect(() => validateName('collection', 'x__parents')).toThrow(/suffix "__parents" is reserved/);
  });
});
