/**
 * Starts and supervises the trainer's OpenAI-compatible server (`python -m twinflow_trainer serve`, from the
 * trainer's venv) for `twinflow model serve`: s3:// model and adapter prefixes are copied into the model cache first,
 * the server's JSON events become one line each, and a server that crashes after it was listening is started again
 * on the same port (a bounded number of times, with backoff). SIGINT/SIGTERM stop its whole process group.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { ConfigError } from '../../lib/config';

/** The server's stdout events this supervisor reads (trainer/src/twinflow_trainer/serve.py). */
export const serveEventSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('listening'), url: z.string(), model: z.string(), device: z.string(), context: z.number() }).loose(),
  z
    .object({ event: z.literal('completion'), id: z.string(), stream: z.boolean(), prompt_tokens: z.number(), completion_tokens: z.number(), seconds: z.number(), text: z.string() })
    .loose(),
  z.object({ event: z.literal('error'), message: z.string(), type: z.string() }).loose(),
]);
export type ServeEvent = z.infer<typeof serveEventSchema>;

export interface ServeOptions {
  python: string;
  trainerSrc: string;
  model: string;
  adapter?: string;
  host: string;
  port: number;
  name?: string;
  device: 'auto' | 'cpu' | 'cuda';
  maxNewTokens: number;
  apiKeyEnv?: string;
  /** Restarts after a crash (a config error is never restarted). */
  restarts: number;
  onEvent: (ev: ServeEvent) => void;
  onLog: (line: string) => void;
  signal: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export function serverArgs(o: Pick<ServeOptions, 'model' | 'adapter' | 'host' | 'port' | 'name' | 'device' | 'maxNewTokens' | 'apiKeyEnv'>): string[] {
  return [
    '-m',
    'twinflow_trainer',
    'serve',
    '--model',
    o.model,
    ...(o.adapter ? ['--adapter', o.adapter] : []),
    '--host',
    o.host,
    '--port',
    String(o.port),
    ...(o.name ? ['--name', o.name] : []),
    '--device',
    o.device,
    '--max-new-tokens',
    String(o.maxNewTokens),
    ...(o.apiKeyEnv ? ['--api-key-env', o.apiKeyEnv] : []),
  ];
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  listened: boolean;
  error?: Extract<ServeEvent, { event: 'error' }>;
  /** The server's log lines before it was listening (kept back: a bad model is one line, not a log). */
  startupLog: string[];
}

function runOnce(o: ServeOptions, port: number, onListening: (url: URL) => void): Promise<Exit> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...o.env, PYTHONUNBUFFERED: '1' };
  env.PYTHONPATH = env.PYTHONPATH ? `${o.trainerSrc}${path.delimiter}${env.PYTHONPATH}` : o.trainerSrc;
  // Its own process group: stopping it also stops anything it started.
  const child = spawn(o.python, serverArgs({ ...o, port }), { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let listened = false;
  let error: Exit['error'];
  const startupLog: string[] = [];
  const stop = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  };
  o.signal.addEventListener('abort', stop, { once: true });
  createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (l) => {
    if (listened) o.onLog(l);
    else startupLog.push(l);
  });
  createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
    let parsed: ReturnType<typeof serveEventSchema.safeParse>;
    try {
      parsed = serveEventSchema.safeParse(JSON.parse(line));
    } catch {
      o.onLog(`[stdout] ${line}`);
      return;
    }
    if (!parsed.success) return; // an event this supervisor does not know: nothing to do with it
    const ev = parsed.data;
    if (ev.event === 'listening') {
      listened = true;
      for (const l of startupLog.splice(0)) o.onLog(l);
      onListening(new URL(ev.url));
    }
    if (ev.event === 'error') error = ev;
    o.onEvent(ev);
  });
  return new Promise((resolve) => {
    child.once('error', (err) => {
      o.signal.removeEventListener('abort', stop);
      resolve({ code: null, signal: null, listened, startupLog, error: { event: 'error', message: `cannot start ${o.python}: ${err.message}`, type: 'config' } });
    });
    child.once('close', (code, signal) => {
      o.signal.removeEventListener('abort', stop);
      resolve({ code, signal, listened, startupLog, error });
    });
  });
}

/** Runs the server until `signal` aborts. Throws ConfigError when it cannot start (bad model, busy port). */
export async function superviseServer(o: ServeOptions): Promise<void> {
  let port = o.port;
  let restarts = 0;
  for (;;) {
    const exit = await runOnce(o, port, (url) => {
      // A restart must come back where clients already point (LLM_BASE_URL), also after --port 0.
      port = Number(url.port);
    });
    if (o.signal.aborted) return;
    if (exit.code === 2 || exit.error?.type === 'config') throw new ConfigError(`model serve: ${exit.error?.message ?? `the server exited with code ${exit.code}`}`);
    const why = exit.error?.message ?? `exited with ${exit.signal ?? `code ${exit.code}`}`;
    if (!exit.listened) throw new ConfigError(`model serve: the server stopped before it was listening: ${why}\n${exit.startupLog.slice(-20).join('\n')}`);
    if (restarts >= o.restarts) throw new Error(`model serve: the server crashed ${restarts + 1} times, the last: ${why}`);
    restarts += 1;
    const delay = Math.min(1000 * 2 ** (restarts - 1), 10_000);
    o.onLog(`model serve: the server crashed (${why}); restart ${restarts}/${o.restarts} in ${delay / 1000}s on port ${port}`);
    await new Promise((r) => setTimeout(r, delay));
    if (o.signal.aborted) return;
  }
}
