/**
 * A real HTTP server on 127.0.0.1 that speaks the OpenAI wire format, for tests of code that calls a paid API.
 * It serves `POST /v1/embeddings` (TEI, vLLM, Ollama and OpenAI all answer this shape) with a deterministic fake
 * embedding, and grows by routes: `server.route('POST', '/v1/chat/completions', handler)` adds an endpoint that gets
 * the same request log, auth check, scripted failures and concurrency count.
 *
 *   const server = await startOpenAIServer({ dimension: 16, apiKey: 'sk-test' });
 *   server.failNext({ status: 429, headers: { 'retry-after': '0' } });   // the next request gets a 429
 *   server.requests      // every request received, with its parsed JSON body
 *   server.maxInFlight   // most requests handled at once
 *
 * (tests/helpers/openai-chat-server.ts is the richer stand-in for chat completions, SSE streaming included.)
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body (undefined when there was none). */
  body: unknown;
}

/** A scripted answer that replaces the next request's normal one. */
export type Failure =
  | { status: number; headers?: Record<string, string>; message?: string; delayMs?: number }
  /** Close the socket without answering: what a network failure looks like to a client. */
  | { dropConnection: true; delayMs?: number };

export interface RouteReply {
  status?: number;
  headers?: Record<string, string>;
  body: unknown;
}

export type RouteHandler = (req: ReceivedRequest, server: OpenAIServer) => RouteReply | Promise<RouteReply>;

export interface OpenAIServerOptions {
  /** Size of the fake embeddings (default 16). */
  dimension?: number;
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (else 401, as OpenAI answers). */
  apiKey?: string;
  /** Most inputs one embeddings request may carry (OpenAI's limit is 2048); more is a 400. */
  maxInputs?: number;
  /** Delay before each answer, so concurrent requests overlap and `maxInFlight` shows the client's concurrency. */
  delayMs?: number;
}

export interface OpenAIServer {
  /** http://127.0.0.1:PORT (endpoints are under /v1). */
  url: string;
  /** http://127.0.0.1:PORT/v1, the form OpenAI SDKs take as their base URL. */
  baseUrl: string;
  requests: ReceivedRequest[];
  /** Requests to one path, e.g. '/v1/embeddings'. */
  requestsTo(path: string): ReceivedRequest[];
  /** The next requests get these answers, in order, before any normal answer. */
  failNext(...failures: Failure[]): void;
  /** Adds or replaces an endpoint. */
  route(method: string, path: string, handler: RouteHandler): void;
  readonly maxInFlight: number;
  options: Required<Omit<OpenAIServerOptions, 'apiKey'>> & { apiKey?: string };
  close(): Promise<void>;
}

/**
 * The fake embedding: a hashed bag of lower-cased words, L2-normalised. Texts sharing words get a positive cosine,
 * texts sharing none get 0, and the same text always gets the same vector, so tests can assert real similarity.
 */
export function fakeEmbedding(text: string, dimension: number): number[] {
  const v = new Array<number>(dimension).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const h = createHash('sha256').update(word).digest();
    v[h.readUInt32BE(0) % dimension]! += h[4]! & 1 ? 1 : -1;
  }
  const norm = Math.hypot(...v);
  // A text without words still gets a valid unit vector.
  return norm === 0 ? v.map((_, i) => (i === 0 ? 1 : 0)) : v.map((x) => x / norm);
}

function openAIError(status: number, message: string, type: string, code?: string): RouteReply {
  return { status, body: { error: { message, type, param: null, code: code ?? null } } };
}

/** POST /v1/embeddings in OpenAI's format: { model, input: string | string[], encoding_format? }. */
const embeddingsRoute: RouteHandler = (req, server) => {
  const body = req.body as { model?: unknown; input?: unknown; encoding_format?: unknown } | undefined;
  if (!body || typeof body.model !== 'string' || body.model === '') return openAIError(400, "you must provide a model parameter", 'invalid_request_error');
  const input = typeof body.input === 'string' ? [body.input] : body.input;
  if (!Array.isArray(input) || input.length === 0 || input.some((t) => typeof t !== 'string')) {
    return openAIError(400, "'input' must be a string or a non-empty array of strings", 'invalid_request_error');
  }
  if (input.some((t) => t === '')) return openAIError(400, "'input' cannot contain an empty string", 'invalid_request_error');
  if (input.length > server.options.maxInputs) {
    return openAIError(400, `'input' must have at most ${server.options.maxInputs} items, got ${input.length}`, 'invalid_request_error');
  }
  if (body.encoding_format !== undefined && body.encoding_format !== 'float') {
    return openAIError(400, `this server only supports encoding_format "float", got ${JSON.stringify(body.encoding_format)}`, 'invalid_request_error');
  }
  const tokens = input.reduce((n, t) => n + (t.match(/\S+/g)?.length ?? 0), 0);
  return {
    body: {
      object: 'list',
      // Real servers do not promise order: answer in reverse so clients must sort by `index`.
      data: input.map((text, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(text, server.options.dimension) })).reverse(),
      model: body.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    },
  };
};

export async function startOpenAIServer(opts: OpenAIServerOptions = {}): Promise<OpenAIServer> {
  const routes = new Map<string, RouteHandler>([['POST /v1/embeddings', embeddingsRoute]]);
  const failures: Failure[] = [];
  const requests: ReceivedRequest[] = [];
  const state = { inFlight: 0, maxInFlight: 0 };
  const options = { dimension: opts.dimension ?? 16, maxInputs: opts.maxInputs ?? 2048, delayMs: opts.delayMs ?? 0, apiKey: opts.apiKey };
  const wait = (ms: number) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

  const send = (res: http.ServerResponse, reply: RouteReply) => {
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
    res.end(JSON.stringify(reply.body));
  };

  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      state.inFlight += 1;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      void handle(req, res, Buffer.concat(parts).toString('utf8'))
        .catch((err: unknown) => {
          if (!res.headersSent) send(res, openAIError(500, String(err), 'server_error'));
          else res.end();
        })
        .finally(() => {
          state.inFlight -= 1;
        });
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    let body: unknown;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      requests.push({ method: req.method ?? '', path, headers: req.headers, body: raw });
      send(res, openAIError(400, 'We could not parse the JSON body of your request.', 'invalid_request_error'));
      return;
    }
    const received: ReceivedRequest = { method: req.method ?? '', path, headers: req.headers, body };
    requests.push(received);
    const failure = failures.shift();
    await wait(failure?.delayMs ?? options.delayMs);
    if (failure && 'dropConnection' in failure) {
      req.socket.destroy();
      return;
    }
    if (failure) {
      const type = failure.status === 429 ? 'rate_limit_exceeded' : failure.status >= 500 ? 'server_error' : 'invalid_request_error';
      send(res, { ...openAIError(failure.status, failure.message ?? `scripted HTTP ${failure.status}`, type), headers: failure.headers });
      return;
    }
    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      send(res, openAIError(401, 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', 'invalid_api_key'));
      return;
    }
    const handler = routes.get(`${req.method} ${path}`);
    if (!handler) {
      send(res, openAIError(404, `Invalid URL (${req.method} ${path})`, 'invalid_request_error'));
      return;
    }
    send(res, await handler(received, api));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const api: OpenAIServer = {
    url: `http://127.0.0.1:${port}`,
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    requestsTo: (path) => requests.filter((r) => r.path === path),
    failNext: (...f) => void failures.push(...f),
    route: (method, path, handler) => void routes.set(`${method.toUpperCase()} ${path}`, handler),
    get maxInFlight() {
      return state.maxInFlight;
    },
    options,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return api;
}
