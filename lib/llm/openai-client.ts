/**
 * The `openai` package, set up the way every twinflow client of an OpenAI-compatible server (chat, embeddings)
 * uses it: against any base URL (OpenAI, vLLM, Ollama, TEI, LiteLLM...), with no retries of its own (lib/retry.ts
 * is the one retry policy), through the fetch it is given (the network policy's guarded fetch for a base URL that
 * came from workflow input), and with nothing read from the process environment: keys, organisation and base URL
 * are the worker's configuration, passed in, and never OPENAI_API_KEY & co. sent to a server they were not meant for.
 * The package still reads OPENAI_CUSTOM_HEADERS (and OPENAI_LOG) and offers no option to turn that off; its headers
 * would go to every endpoint, base URLs chosen by workflow input included, so a worker that sets it is refused.
 */
import OpenAI, { APIConnectionTimeoutError, APIError } from 'openai';
import { ConfigError } from '../config';
import { isRetryableStatus, retryAfterFromHeaders } from '../retry';

export interface OpenAIClientOptions {
  baseUrl: string;
  /** Sent as `Authorization: Bearer`; without it no Authorization header is sent at all. */
  apiKey?: string;
  /** Per-request timeout. */
  timeoutMs: number;
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

export function openAIClient(o: OpenAIClientOptions, env: NodeJS.ProcessEnv = process.env): OpenAI {
  if (env.OPENAI_CUSTOM_HEADERS) {
    throw new ConfigError(
      'OPENAI_CUSTOM_HEADERS is set on this worker: the openai package would send those headers to every endpoint, ' +
        'including base URLs from workflow input; unset it (a key for an endpoint goes in TWINFLOW_API_KEYS or LLM_API_KEY)',
    );
  }
  return new OpenAI({
    baseURL: o.baseUrl,
    // The package insists on a credential; a keyless server (a local vLLM, TEI, the tests' fakes) gets the header
    // removed below instead, as before.
    apiKey: o.apiKey || 'no-key',
    adminAPIKey: null,
    organization: null,
    project: null,
    webhookSecret: null,
    maxRetries: 0,
    timeout: o.timeoutMs,
    defaultHeaders: { ...(!o.apiKey && { Authorization: null }), ...o.headers },
    ...(o.fetch && { fetch: o.fetch }),
  });
}

/** The HTTP status of a failed call, when the server answered. */
export function statusOf(err: unknown): number | undefined {
  return err instanceof APIError ? err.status : undefined;
}

/** Whether another attempt can help: no answer (connection failure, timeout) or a retryable status. */
export function isRetryableCall(err: unknown): boolean {
  if (!(err instanceof APIError)) return false;
  return err.status === undefined ? err.headers === undefined : isRetryableStatus(err.status);
}

/** The wait the server asked for with its error (retry-after-ms, Retry-After). */
export function retryAfterOf(err: unknown): number | undefined {
  return err instanceof APIError ? retryAfterFromHeaders(err.headers) : undefined;
}

export function isTimeout(err: unknown): boolean {
  return err instanceof APIConnectionTimeoutError;
}

/**
 * The server's own words from an error answer: the `error.message` of an OpenAI-style body, `message` or `detail`
 * of other servers' bodies, or the text as sent.
 */
export function serverMessage(err: unknown): string {
  if (!(err instanceof APIError)) return err instanceof Error ? err.message : String(err);
  const e = err.error as { message?: unknown; detail?: unknown } | string | undefined;
  const m = typeof e === 'string' ? e : (e?.message ?? e?.detail);
  if (typeof m === 'string' && m !== '') return m;
  if (e !== undefined) return JSON.stringify(e).slice(0, 500);
  // A body that is not JSON: the package's message is "<status> <text>", or "<status> status code (no body)".
  const text = err.message.replace(/^\d{3} /, '');
  return text === 'status code (no body)' ? '(empty body)' : text.slice(0, 500);
}

/** What went wrong under a connection failure: the system error's message and code ("fetch failed: ... (ECONNRESET)"). */
export function connectionFailure(err: unknown): string {
  const underlying = (err as { cause?: unknown }).cause ?? err;
  const cause = (underlying as { cause?: { code?: string; message?: string } }).cause;
  return `${(underlying as Error).message ?? String(underlying)}${cause?.code ? ` (${cause.code})` : ''}`;
}
