/**
 * The served twin end to end on CPU: a tiny LoRA adapter trained by the real trainer, served by `twinflow model serve`
 * (the trainer's OpenAI-compatible server, supervised), and `twinflow ask` answering over a real LanceDB index of the
 * fixture site through LLM_BASE_URL — with the text the served model produced. Also: the supervisor brings a killed
 * server back on the same port, and a bad model path is one line, exit 2.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../lib/config';
import { MODELS_DIR, writeFixtureIndex } from '../rag/support/fixture-index';
import { tinyModelDir, TRAINER_PYTHON } from './tiny-model';

const run = promisify(execFile);
const BIN = path.join(PROJECT_ROOT, 'bin', 'twinflow');
let dir: string;
let tiny: string;
let adapter: string;

/** The environment of a user's shell: nothing of the test process's LLM or store settings leaks in. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(LLM_|RERANKER_|RAG_|LANCEDB_|VECTOR_STORE|EMBEDDING_)/.test(k)));
  return { ...base, OMP_NUM_THREADS: '1', LANCEDB_URI: path.join(dir, 'lancedb'), RAG_COLLECTIONS: 'site', EMBEDDING_MODELS_DIR: MODELS_DIR, ...extra };
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-served-'));
  tiny = tinyModelDir();
  // A tiny adapter that answers in sentences: 4 steps of SFT through the real trainer CLI.
  const capitals = [['France', 'Paris'], ['Italy', 'Rome'], ['Spain', 'Madrid'], ['Germany', 'Berlin']];
  const rows = Array.from({ length: 16 }, (_, i) => {
    const [c, k] = capitals[i % 4]!;
    return JSON.stringify({ messages: [{ role: 'user', content: `What is the capital of ${c}?` }, { role: 'assistant', content: `The capital of ${c} is ${k}.` }] });
  });
  fs.writeFileSync(path.join(dir, 'train.jsonl'), rows.join('\n') + '\n');
  const cfg = {
    base_model: tiny, output_dir: path.join(dir, 'sft'), train_file: path.join(dir, 'train.jsonl'), max_seq_length: 128,
    lora: { r: 8, alpha: 16, dropout: 0, target_modules: 'all-linear' }, max_steps: 4, learning_rate: 1e-2, lr_scheduler: 'constant',
    warmup_ratio: 0, per_device_batch_size: 4, gradient_accumulation_steps: 1, logging_steps: 3, save_steps: 100, gradient_checkpointing: false, device: 'cpu',
  };
  fs.writeFileSync(path.join(dir, 'sft.json'), JSON.stringify(cfg));
  const { stdout } = await run(TRAINER_PYTHON, ['-m', 'twinflow_trainer', 'train', '--config', path.join(dir, 'sft.json')], {
    env: { ...process.env, PYTHONPATH: path.join(PROJECT_ROOT, 'trainer', 'src'), OMP_NUM_THREADS: '1', HF_HUB_OFFLINE: '1' },
    // Seconds on a quiet machine; minutes when the shared cores are busy.
    timeout: 600_000,
  });
  const done = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; adapter_dir?: string }).find((e) => e.event === 'done');
  adapter = done!.adapter_dir!;

  // The user's data: the fixture site, cleaned, chunked, embedded and loaded by the feature pipeline's functions.
  await writeFixtureIndex(path.join(dir, 'lancedb'), 'site', ['bbc-1', 'spiceworks']);
}, 900_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

interface ServeEvent {
  event: string;
  url?: string;
  model?: string;
  pid?: number;
  text?: string;
  stream?: boolean;
  prompt_tokens?: number;
  completion_tokens?: number;
}

/** `twinflow model serve --json` as a process, its events read as they come. */
function startServe(args: string[]) {
  const child = spawn(BIN, ['model', 'serve', '--json', ...args], { cwd: PROJECT_ROOT, env: userEnv() }) as ChildProcessWithoutNullStreams;
  const events: ServeEvent[] = [];
  const waiters: Array<() => void> = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout }).on('line', (line) => {
    events.push(JSON.parse(line) as ServeEvent);
    for (const w of waiters.splice(0)) w();
  });
  const next = async (event: string, after = 0, timeoutMs = 300_000): Promise<ServeEvent> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = events.slice(after).find((e) => e.event === event);
      if (found) return found;
      if (child.exitCode !== null) throw new Error(`model serve exited (${child.exitCode}) before "${event}": ${stderr.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`no "${event}" event within ${timeoutMs} ms: ${stderr.slice(-2000)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 500);
      });
    }
  };
  return { child, events, next, stderr: () => stderr };
}

describe('the served twin', () => {
  it('twinflow ask answers over the user\'s data with the text the served fine-tuned model produced', async () => {
    const serve = startServe(['--model', tiny, '--adapter', adapter, '--name', 'twin', '--port', '0', '--device', 'cpu', '--max-new-tokens', '24']);
    try {
      const listening = await serve.next('listening');
      expect(listening).toMatchObject({ model: 'twin', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/v1$/) });
      const models = (await (await fetch(`${listening.url}/models`)).json()) as { data: Array<{ id: string }> };
      expect(models.data.map((m) => m.id)).toEqual(['twin']);

      const before = serve.events.length;
      const ask = await run(BIN, ['ask', 'What', 'did', 'Obama', 'call', 'his', 'biggest', 'frustration?', '-k', '2'], {
        cwd: PROJECT_ROOT,
        env: userEnv({ LLM_BASE_URL: listening.url!, LLM_MODEL: 'twin' }),
        timeout: 300_000,
      });
      const completion = await serve.next('completion', before, 30_000);
      // The served model was called once, streaming, with the retrieved context (far more than the question's tokens).
      expect(serve.events.slice(before).filter((e) => e.event === 'completion')).toHaveLength(1);
      expect(completion.stream).toBe(true);
      expect(completion.prompt_tokens).toBeGreaterThan(500);
      expect(completion.completion_tokens).toBeGreaterThan(0);
      expect(completion.text!.trim().length).toBeGreaterThan(0);
      // What ask printed as the answer is exactly what the model generated; the sources follow.
      const [answer, sources] = ask.stdout.split(/\n\nSources/);
      expect(answer!.trimEnd()).toBe(completion.text!.trimEnd());
      expect(sources).toMatch(/\[1\] /);
    } finally {
      serve.child.kill('SIGTERM');
      if (serve.child.exitCode === null) await once(serve.child, 'exit');
    }
    expect(serve.child.exitCode).toBe(0);
  }, 600_000);

  it('a server that dies is started again on the same port; a bad model is one line and exit 2', async () => {
    const serve = startServe(['--model', tiny, '--port', '0', '--device', 'cpu', '--max-new-tokens', '4', '--restarts', '1']);
    try {
      const first = await serve.next('listening');
      process.kill(first.pid!, 'SIGKILL');
      const second = await serve.next('listening', serve.events.indexOf(first) + 1);
      expect(second.url).toBe(first.url);
      expect(second.pid).not.toBe(first.pid);
      expect(serve.stderr()).toMatch(/restart 1\/1/);
      const res = await fetch(`${second.url}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: path.basename(tiny), messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
      });
      expect(res.status).toBe(200);
    } finally {
      serve.child.kill('SIGTERM');
      if (serve.child.exitCode === null) await once(serve.child, 'exit');
    }

    const bad = await run(BIN, ['model', 'serve', '--model', path.join(dir, 'no-such-model'), '--device', 'cpu'], { cwd: PROJECT_ROOT, env: userEnv(), timeout: 300_000 }).catch(
      (err: { code?: number; stderr?: string }) => err,
    );
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr.trim()).toMatch(/^twinflow: model serve: --model: local model directory not found/);
  }, 600_000);
});
