/**
 * A real HTTP server on 127.0.0.1 that speaks the OpenAI `/v1/chat/completions` wire format, for tests of code that
 * calls a paid LLM API: JSON responses, Server-Sent Events streaming (`stream: true`, with the usage chunk when
 * `stream_options.include_usage` is set), HTTP errors with headers such as Retry-After, scripted per request.
 *
 *   const server = await startOpenAIChatServer({ respond: (req) => ({ content: 'hi' }) });
 *   new ChatClient({ baseUrl: server.baseUrl, model: 'gpt-4o-mini' });
 *   server.enqueue({ status: 429, headers: { 'retry-after': '0' } });   // next request gets a 429
 *   server.requests  // every request received, parsed
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedChatRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: {
    model?: string;
    messages?: Array<{ role: string; content: string }>;
    stream?: boolean;
    stream_options?: { include_usage?: boolean };
    response_format?: { type: string; json_schema?: unknown };
    temperature?: number;
    max_tokens?: number;
    [k: string]: unknown;
  };
}

export interface ScriptedReply {
  /** HTTP status (default 200). A non-2xx status sends `error` as an OpenAI error body. */
  status?: number;
  headers?: Record<string, string>;
  /** The assistant message (200 replies). */
  content?: string;
  /** For streams: the deltas to send (default: `content` split after spaces). */
  chunks?: string[];
  finishReason?: string;
  usage?: { prompt_tokens: number; completion_tokens: number };
  error?: { message: string; type?: string; code?: string };
  /** Wait before answering (e.g. to test timeouts or concurrency). */
  delayMs?: number;
  /** Close the connection without an answer (a network failure). */
  dropConnection?: boolean;
}

export type Responder = (req: ReceivedChatRequest, index: number) => ScriptedReply | Promise<ScriptedReply>;

export interface OpenAIChatServer {
  /** e.g. http://127.0.0.1:PORT/v1 — what a client takes as its base URL. */
  baseUrl: string;
  requests: ReceivedChatRequest[];
  /** Replies used, in order, before the responder. */
  enqueue(...replies: ScriptedReply[]): void;
  setResponder(fn: Responder): void;
  /** Most requests that were in flight at the same time. */
  maxInFlight: number;
  close(): Promise<void>;
}

/** A rough token count for usage numbers: words and punctuation. */
export function roughTokens(text: string): number {
  return (text.match(/\w+|[^\s\w]/g) ?? []).length;
}

function usageFor(req: ReceivedChatRequest, content: string, reply: ScriptedReply) {
  const prompt = reply.usage?.prompt_tokens ?? (req.body.messages ?? []).reduce((a, m) => a + roughTokens(String(m.content)) + 4, 0);
  const completion = reply.usage?.completion_tokens ?? roughTokens(content);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export async function startOpenAIChatServer(opts: { respond?: Responder; apiKey?: string } = {}): Promise<OpenAIChatServer> {
  const queue: ScriptedReply[] = [];
  let responder: Responder = opts.respond ?? (() => ({ content: 'OK' }));
  const requests: ReceivedChatRequest[] = [];
  let inFlight = 0;
  const state = { maxInFlight: 0 };

  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      void (async () => {
        inFlight += 1;
        state.maxInFlight = Math.max(state.maxInFlight, inFlight);
        try {
          const path = (req.url ?? '').split('?')[0]!;
          const sendJson = (status: number, body: unknown, headers: Record<string, string> = {}) => {
            res.writeHead(status, { 'content-type': 'application/json', ...headers });
            res.end(JSON.stringify(body));
          };
          if (req.method !== 'POST' || !/\/v1\/chat\/completions$/.test(path)) {
            sendJson(404, { error: { message: `no route ${req.method} ${path}`, type: 'invalid_request_error' } });
            return;
          }
          if (opts.apiKey && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
            sendJson(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } });
            return;
          }
          let body: ReceivedChatRequest['body'];
          try {
            body = JSON.parse(Buffer.concat(parts).toString('utf8')) as ReceivedChatRequest['body'];
          } catch {
            sendJson(400, { error: { message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error' } });
            return;
          }
          const received: ReceivedChatRequest = { method: req.method, path, headers: req.headers, body };
          const index = requests.length;
          requests.push(received);
          const reply = queue.shift() ?? (await responder(received, index));
          if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
          if (reply.dropConnection) {
            req.socket.destroy();
            return;
          }
          const status = reply.status ?? 200;
          if (status < 200 || status >= 300) {
            sendJson(status, { error: reply.error ?? { message: `scripted HTTP ${status}`, type: status === 429 ? 'rate_limit_exceeded' : 'server_error' } }, reply.headers);
            return;
          }
          const content = reply.content ?? '';
          const model = body.model ?? 'unknown';
          const id = `chatcmpl-test-${index}`;
          const created = Math.floor(Date.now() / 1000);
          const usage = usageFor(received, content, reply);
          if (!body.stream) {
            sendJson(
              200,
              {
                id,
                object: 'chat.completion',
                created,
                model,
                choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: reply.finishReason ?? 'stop' }],
                usage,
              },
              reply.headers,
            );
            return;
          }
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...reply.headers });
          const event = (data: unknown) => res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
          const base = { id, object: 'chat.completion.chunk', created, model };
          event({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
          const chunks = reply.chunks ?? content.match(/\S+\s*|\s+/g) ?? [];
          for (const piece of chunks) {
            event({ ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] });
            await new Promise((r) => setImmediate(r)); // separate TCP writes, like a real stream
          }
          event({ ...base, choices: [{ index: 0, delta: {}, finish_reason: reply.finishReason ?? 'stop' }] });
          if (body.stream_options?.include_usage) event({ ...base, choices: [], usage });
          event('[DONE]');
          res.end();
        } finally {
          inFlight -= 1;
        }
      })().catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: String(err), type: 'server_error' } }));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...replies) => queue.push(...replies),
    setResponder: (fn) => {
      responder = fn;
    },
    get maxInFlight() {
      return state.maxInFlight;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
