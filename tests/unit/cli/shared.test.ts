/** The helpers every command shares (cli/shared/): flag parsing, --config readers, in-process worker order, run views. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { formatAnyProgress, formatAnyResult } from '../../../cli/commands/runs';
import { readConfigFile, readJsonConfig } from '../../../cli/shared/config-file';
import { runWithWorkers } from '../../../cli/shared/local-workers';
import { collect } from '../../../cli/shared/options';
import { addRunOutputOptions } from '../../../cli/shared/run-output-options';
import { addSourceOptions } from '../../../cli/shared/source-options';
import { watch } from '../../../cli/shared/watch';

const parse = (command: Command, args: string[]) => command.exitOverride().parse(args, { from: 'user' }).opts();

describe('cli/shared options', () => {
  it('collects a repeatable flag in order', () => {
    expect(['a', 'b', 'c'].reduce((prev, v) => collect(v, prev), [] as string[])).toEqual(['a', 'b', 'c']);
  });

  it('adds the source flags, each repeatable and empty by default', () => {
    const opts = parse(addSourceOptions(new Command('x')), ['--url', 'https://a.test/', '--url', 'https://b.test/', '--git', 'file:///r', '--collection', 'c']);
    expect(opts).toEqual({ collection: 'c', url: ['https://a.test/', 'https://b.test/'], sitemap: [], feed: [], folder: [], git: ['file:///r'] });
  });

  it('adds --wait-for-worker and --json', () => {
    expect(parse(addRunOutputOptions(new Command('x')), ['--json', '--wait-for-worker'])).toEqual({ json: true, waitForWorker: true });
    expect(parse(addRunOutputOptions(new Command('x')), [])).toEqual({});
  });
});

describe('cli/shared config-file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-cli-shared-'));
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  it('reads JSON, and YAML by the file name', () => {
    expect(readJsonConfig(write('a.json', '{"collection":"c"}'))).toEqual({ collection: 'c' });
    expect(readConfigFile(write('b.yaml', 'collection: c\nsources: []\n'))).toEqual({ collection: 'c', sources: [] });
    expect(readConfigFile(write('c.json', '{"x":1}'))).toEqual({ x: 1 });
  });

  it('names the file in one line when it is missing, a folder, or does not parse', () => {
    expect(() => readJsonConfig(path.join(dir, 'missing.json'))).toThrow(`--config ${path.join(dir, 'missing.json')}: no such file`);
    expect(() => readJsonConfig(dir)).toThrow(`--config ${dir}: is a folder, not a file`);
    expect(() => readJsonConfig(write('bad.json', '{'))).toThrow(/: not valid JSON: /);
    expect(() => readConfigFile(path.join(dir, 'missing.yaml'))).toThrow(`cannot read ${path.join(dir, 'missing.yaml')}: `);
    expect(() => readConfigFile(write('bad.yml', 'a: [1'))).toThrow(/bad\.yml is not valid YAML: /);
    expect(() => readConfigFile(write('bad2.json', '{'))).toThrow(/bad2\.json is not valid JSON: /);
  });
});

describe('cli/shared local-workers runWithWorkers', () => {
  it('starts the function inside every worker; the first worker shuts down last', async () => {
    const events: string[] = [];
    const worker = (name: string) => ({
      runUntil: async <R>(p: Promise<R>): Promise<R> => {
        events.push(`${name} run`);
        try {
          return await p;
        } finally {
          events.push(`${name} stop`);
        }
      },
    });
    const result = await runWithWorkers([worker('cpu'), worker('gpu')] as never, async () => {
      events.push('fn');
      return 42;
    });
    expect(result).toBe(42);
    expect(events).toEqual(['fn', 'gpu run', 'cpu run', 'gpu stop', 'cpu stop']);
  });

  it('with no workers, is the function itself', async () => {
    await expect(runWithWorkers([], async () => 'x')).resolves.toBe('x');
  });
});

describe('cli/shared watch', () => {
  it('prints each changed line to the given function, skips failed readings, returns the result', async () => {
    const readings = ['a', 'a', 'fail', 'b'];
    const printed: string[] = [];
    let finish!: (v: string) => void;
    const result = new Promise<string>((resolve) => (finish = resolve));
    const progress = async () => {
      const r = readings.shift();
      if (r === undefined) {
        finish('done');
        return 'b'; // unchanged: not printed again, however the race with the result goes
      }
      if (r === 'fail') throw new Error('between tasks');
      return r;
    };
    await expect(watch(progress, result, 5, (l) => printed.push(l))).resolves.toBe('done');
    expect(printed).toEqual(['a', 'b']);
  });

  it('throws what the result throws', async () => {
    await expect(watch(async () => 'x', Promise.reject(new Error('failed run')), 5, () => undefined)).rejects.toThrow('failed run');
  });
});

describe('runs: views of any run', () => {
  it('shows retrieval-eval progress and another workflow type as JSON (names of Object.prototype included)', () => {
    expect(formatAnyProgress('evalRetrieval', { done: 2, batches: 5 })).toBe('batches 2/5');
    expect(formatAnyProgress('stackCheck', { a: 1 })).toBe('{"a":1}');
    expect(formatAnyProgress('toString', { a: 1 })).toBe('{"a":1}');
    expect(formatAnyResult('constructor', { a: 1 })).toBe('{\n  "a": 1\n}');
  });
});
