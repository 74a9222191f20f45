/**
 * API keys that workflow input may ask for. An input (a dataset teacher, an evaluation baseline) names the
 * environment variable holding an endpoint's key (`apiKeyEnv`), never the key. The worker decides which variables
 * may be named and where each key may go: TWINFLOW_API_KEYS=NAME=https://base/url,... binds every variable to one
 * base URL, and the worker's own LLM_API_KEY is bound to LLM_BASE_URL (OpenAI when unset). So no input can read the
 * worker's other credentials (HF_TOKEN, AWS_SECRET_ACCESS_KEY, ...) or send a key to a server of its choosing.
 *
 * No Node imports: lib/schemas (bundled into workflow code) reads WORKER_CREDENTIAL_VARIABLES.
 */

/**
 * The worker's own credentials: an input naming one is refused outright (even if declared by mistake in
 * TWINFLOW_API_KEYS, which refuses them too). LLM_API_KEY is not here: it may be named, and goes to LLM_BASE_URL only.
 */
export const WORKER_CREDENTIAL_VARIABLES: ReadonlySet<string> = new Set([
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'HF_TOKEN',
  'HUGGING_FACE_HUB_TOKEN',
  'TEMPORAL_API_KEY',
  'QDRANT_API_KEY',
  'EMBEDDING_API_KEY',
  'RERANKER_API_KEY',
  'TWINFLOW_API_TOKEN',
  'TWINFLOW_WEBHOOK_SECRET',
]);

/** Also refused: every variable of the worker's own configuration families. */
const WORKER_CREDENTIAL_PREFIXES = ['AWS_', 'TWINFLOW_', 'TEMPORAL_', 'GIT_', 'SSH_'];

export function isWorkerCredential(name: string): boolean {
  return WORKER_CREDENTIAL_VARIABLES.has(name) || WORKER_CREDENTIAL_PREFIXES.some((p) => name.startsWith(p));
}

/** The refusal of an input that names a worker credential. */
export function workerCredentialMessage(name: string): string {
  return `${name} is one of the worker's own credentials and can never be named in workflow input; declare the endpoint's key on the worker (TWINFLOW_API_KEYS=NAME=https://base.url) and name NAME`;
}

export interface DeclaredApiKey {
  /** The environment variable of the worker holding the key. */
  env: string;
  /** The one base URL the key is sent to (no trailing slash). */
  baseUrl: string;
}

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;

export function normalizeBaseUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

/** TWINFLOW_API_KEYS: `NAME=https://base.url,...`. Throws a message naming the bad entry. */
export function parseApiKeys(value: string): DeclaredApiKey[] {
  const out: DeclaredApiKey[] = [];
  for (const raw of value.split(',').map((e) => e.trim()).filter(Boolean)) {
    const eq = raw.indexOf('=');
    const env = eq < 0 ? raw : raw.slice(0, eq).trim();
    const url = eq < 0 ? '' : raw.slice(eq + 1).trim();
    if (!ENV_NAME.test(env) || !url) throw new Error(`expected NAME=https://base.url entries separated by commas, got ${JSON.stringify(raw)}`);
    if (env === 'LLM_API_KEY') throw new Error('LLM_API_KEY is always bound to LLM_BASE_URL; declare other keys under their own names');
    if (isWorkerCredential(env)) throw new Error(`${env} is one of the worker's own credentials and cannot be lent to workflow input`);
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new Error(`${env}: ${JSON.stringify(url)} is not a URL`);
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(`${env}: expected an http(s) base URL, got ${url}`);
    if (u.username || u.password) throw new Error(`${env}: the base URL must not hold credentials`);
    if (out.some((d) => d.env === env)) throw new Error(`${env} is declared twice`);
    out.push({ env, baseUrl: normalizeBaseUrl(u.href) });
  }
  return out;
}

export class ApiKeyNotAllowedError extends Error {
  override name = 'ApiKeyNotAllowedError';
}

/**
 * The base URL and key for an endpoint of workflow input. Without `apiKeyEnv`, the worker's LLM_API_KEY goes only to
 * LLM_BASE_URL (another base URL gets no key); with it, the variable must be declared and the key goes only to its
 * declared base URL (the input may leave baseUrl out, or must name that same URL). Throws ApiKeyNotAllowedError.
 */
export function resolveEndpointKey(
  llm: { baseUrl?: string; apiKey?: string; apiKeys?: readonly DeclaredApiKey[] },
  endpoint: { baseUrl?: string; apiKeyEnv?: string },
  env: NodeJS.ProcessEnv,
): { baseUrl: string; apiKey?: string } {
  const ownBase = normalizeBaseUrl(llm.baseUrl ?? OPENAI_BASE_URL);
  const asked = endpoint.baseUrl === undefined ? undefined : normalizeBaseUrl(endpoint.baseUrl);
  const name = endpoint.apiKeyEnv;
  if (!name) {
    const base = asked ?? ownBase;
    return { baseUrl: base, apiKey: base === ownBase ? llm.apiKey : undefined };
  }
  if (isWorkerCredential(name)) throw new ApiKeyNotAllowedError(`apiKeyEnv: ${workerCredentialMessage(name)}`);
  const declared: DeclaredApiKey | undefined = name === 'LLM_API_KEY' ? { env: name, baseUrl: ownBase } : llm.apiKeys?.find((d) => d.env === name);
  if (!declared) {
    const known = (llm.apiKeys ?? []).map((d) => d.env).join(', ') || 'none';
    throw new ApiKeyNotAllowedError(
      `apiKeyEnv: ${name} is not declared for API keys on this worker (TWINFLOW_API_KEYS declares: ${known}); add ${name}=<its base URL> to TWINFLOW_API_KEYS on the worker`,
    );
  }
  if (asked !== undefined && asked !== declared.baseUrl) {
    throw new ApiKeyNotAllowedError(
      `apiKeyEnv: the key in ${name} may only be sent to ${declared.baseUrl} (${name === 'LLM_API_KEY' ? 'LLM_BASE_URL' : 'TWINFLOW_API_KEYS'}), not to baseUrl ${asked}; change the base URL in that setting on the worker, or leave baseUrl out`,
    );
  }
  const apiKey = name === 'LLM_API_KEY' ? llm.apiKey : env[name];
  if (!apiKey) throw new ApiKeyNotAllowedError(`apiKeyEnv: the environment variable ${name} is not set on this worker`);
  return { baseUrl: declared.baseUrl, apiKey };
}
