/** OpenAI-compatible chat completions: client, errors, usage tally. */
import type { Config } from '../config';
import { normalizeBaseUrl, resolveEndpointKey } from '../security/secrets';
import { networkPolicyFromEnv } from '../security/net-fetch';
import type { NetworkPolicy } from '../security/network';
import { ChatClient, type ChatClientOptions, OPENAI_BASE_URL } from './client';

export * from './client';
export * from './errors';
export * from './tally';
export * from './types';
export { RequestLimiter } from './rate-limit';
export { ApiKeyNotAllowedError } from '../security/secrets';

/**
 * A client for the configured LLM (LLM_BASE_URL, LLM_MODEL, LLM_API_KEY), with per-call overrides. `apiKeyEnv`
 * names another environment variable of this process to read the key from (keys never travel in workflow input).
 */
export function chatClientFromConfig(
  llm: Config['llm'],
  overrides: Partial<ChatClientOptions> & { apiKeyEnv?: string; env?: NodeJS.ProcessEnv } = {},
): ChatClient {
  const { apiKeyEnv, env = process.env, ...rest } = overrides;
  let apiKey = rest.apiKey ?? llm.apiKey;
  if (apiKeyEnv) {
    apiKey = env[apiKeyEnv];
    if (!apiKey) throw new Error(`apiKeyEnv: the environment variable ${apiKeyEnv} is not set on this worker`);
  }
  return new ChatClient({ ...rest, model: rest.model ?? llm.model, baseUrl: rest.baseUrl ?? llm.baseUrl ?? OPENAI_BASE_URL, apiKey });
}

/**
 * A client for an endpoint named in workflow input ({ model, baseUrl?, apiKeyEnv?, ... }). The worker's LLM_API_KEY
 * is sent only to the worker's own LLM_BASE_URL (or OpenAI when that is unset); `apiKeyEnv` may name only a variable
 * the worker declares in TWINFLOW_API_KEYS, and its key goes only to the base URL declared with it
 * (lib/security/secrets.ts), so no input can read another credential or send a key to a server of its choosing.
 * A base URL of the input's own choosing is connected to only where `network` allows (default: this process's
 * TWINFLOW_ALLOW_NETWORKS); the callers pass the worker's configured policy. Throws ApiKeyNotAllowedError.
 */
export function chatClientForEndpoint(
  llm: Config['llm'],
  endpoint: { model: string; baseUrl?: string; apiKeyEnv?: string; maxConcurrency?: number; requestsPerMinute?: number },
  env: NodeJS.ProcessEnv = process.env,
  network: NetworkPolicy = networkPolicyFromEnv(),
): ChatClient {
  const { baseUrl, apiKey } = resolveEndpointKey(llm, endpoint, env);
  // A base URL the worker configured (LLM_BASE_URL, or one declared in TWINFLOW_API_KEYS) is trusted; any other came
  // from the input, and its connections are checked against the network policy (TWINFLOW_ALLOW_NETWORKS).
  const trusted = [llm.baseUrl ?? OPENAI_BASE_URL, ...(llm.apiKeys ?? []).map((k) => k.baseUrl)].map(normalizeBaseUrl);
  const fromInput = !trusted.includes(normalizeBaseUrl(baseUrl));
  return new ChatClient({
    model: endpoint.model,
    baseUrl,
    apiKey,
    ...(fromInput && { network }),
    maxConcurrency: endpoint.maxConcurrency,
    requestsPerMinute: endpoint.requestsPerMinute,
  });
}
