/**
 * Which API keys workflow input may use (lib/security/secrets.ts): only variables the worker declares in
 * TWINFLOW_API_KEYS (or its own LLM_API_KEY), each key only to the base URL declared with it; the worker's own
 * credentials are refused by the input schema already. Requests go to real HTTP servers on 127.0.0.1, whose
 * Authorization headers show where each key went.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config';
import { ApiKeyNotAllowedError, chatClientForEndpoint } from '../../../lib/llm';
import { llmEndpointSchema } from '../../../lib/schemas/train';
import { parseApiKeys, resolveEndpointKey } from '../../../lib/security/secrets';
import { type OpenAIChatServer, startOpenAIChatServer } from '../../helpers/openai-chat-server';

let own: OpenAIChatServer;
let teacher: OpenAIChatServer;
let attacker: OpenAIChatServer;

beforeAll(async () => {
  [own, teacher, attacker] = await Promise.all([startOpenAIChatServer(), startOpenAIChatServer(), startOpenAIChatServer()]);
});
afterAll(async () => {
  await Promise.all([own.close(), teacher.close(), attacker.close()]);
});

const ENV = { LLM_API_KEY: 'sk-own-llm', TEACHER_KEY: 'sk-teacher', HF_TOKEN: 'hf_secret', AWS_SECRET_ACCESS_KEY: 'aws-secret' };

function llm() {
  return loadConfig({ LLM_BASE_URL: own.baseUrl, LLM_API_KEY: ENV.LLM_API_KEY, TWINFLOW_API_KEYS: `TEACHER_KEY=${teacher.baseUrl}/` }).llm;
}

describe('TWINFLOW_API_KEYS', () => {
  it('parses NAME=baseUrl entries (trailing slash dropped)', () => {
    expect(parseApiKeys(' A_KEY=https://a.example/v1/ , B=http://127.0.0.1:8000')).toEqual([
      { env: 'A_KEY', baseUrl: 'https://a.example/v1' },
      { env: 'B', baseUrl: 'http://127.0.0.1:8000' },
    ]);
  });

  it.each([
    ['HF_TOKEN=https://x.example', /HF_TOKEN is one of the worker's own credentials/],
    ['AWS_SECRET_ACCESS_KEY=https://x.example', /AWS_SECRET_ACCESS_KEY is one of the worker's own credentials/],
    ['LLM_API_KEY=https://x.example', /LLM_API_KEY is always bound to LLM_BASE_URL/],
    ['A=ftp://x.example', /expected an http\(s\) base URL/],
    ['A=https://user:pw@x.example', /the base URL must not hold credentials/],
    ['A=https://x.example,A=https://y.example', /A is declared twice/],
    ['lower=https://x.example', /expected NAME=https:\/\/base.url entries/],
    ['A', /expected NAME=https:\/\/base.url entries/],
  ])('refuses %s, naming the variable', (value, message) => {
    expect(() => loadConfig({ TWINFLOW_API_KEYS: value })).toThrow(new RegExp(`^Invalid configuration: TWINFLOW_API_KEYS: (A: )?${message.source}`));
  });
});

describe('apiKeyEnv in workflow input', () => {
  it('the schema refuses the worker’s own credentials with a message that says what to do', () => {
    for (const name of ['HF_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'TEMPORAL_API_KEY', 'TWINFLOW_WEBHOOK_SECRET', 'EMBEDDING_API_KEY']) {
      const r = llmEndpointSchema.safeParse({ model: 'm', apiKeyEnv: name });
      expect(r.success, name).toBe(false);
      expect(r.error!.issues[0]!.message).toMatch(new RegExp(`^${name} is one of the worker's own credentials .*TWINFLOW_API_KEYS=NAME=`));
    }
    expect(llmEndpointSchema.safeParse({ model: 'm', apiKeyEnv: 'TEACHER_KEY' }).success).toBe(true);
  });

  it('the worker refuses them too (an input that skipped the schema), and any undeclared variable', () => {
    expect(() => resolveEndpointKey(llm(), { apiKeyEnv: 'HF_TOKEN' }, ENV)).toThrow(ApiKeyNotAllowedError);
    expect(() => resolveEndpointKey(llm(), { apiKeyEnv: 'AWS_SECRET_ACCESS_KEY', baseUrl: attacker.baseUrl }, ENV)).toThrow(/own credentials/);
    expect(() => resolveEndpointKey(llm(), { apiKeyEnv: 'HOME' }, ENV)).toThrow(/apiKeyEnv: HOME is not declared for API keys on this worker \(TWINFLOW_API_KEYS declares: TEACHER_KEY\); add HOME=<its base URL> to TWINFLOW_API_KEYS/);
  });

  it('a declared key goes to its own base URL only', async () => {
    const c = chatClientForEndpoint(llm(), { model: 'm', apiKeyEnv: 'TEACHER_KEY' }, ENV);
    expect(c.baseUrl).toBe(teacher.baseUrl);
    await c.chat([{ role: 'user', content: 'x' }]);
    expect(teacher.requests.at(-1)!.headers.authorization).toBe('Bearer sk-teacher');
    await chatClientForEndpoint(llm(), { model: 'm', baseUrl: `${teacher.baseUrl}/`, apiKeyEnv: 'TEACHER_KEY' }, ENV).chat([{ role: 'user', content: 'x' }]);
    expect(() => chatClientForEndpoint(llm(), { model: 'm', baseUrl: attacker.baseUrl, apiKeyEnv: 'TEACHER_KEY' }, ENV)).toThrow(
      new RegExp(`the key in TEACHER_KEY may only be sent to ${teacher.baseUrl} \\(TWINFLOW_API_KEYS\\), not to baseUrl ${attacker.baseUrl}`),
    );
    expect(() => chatClientForEndpoint(llm(), { model: 'm', apiKeyEnv: 'TEACHER_KEY' }, {})).toThrow(/TEACHER_KEY is not set on this worker/);
  });

  it('LLM_API_KEY goes to LLM_BASE_URL only: named or not, another base URL gets no key or a refusal', async () => {
    await chatClientForEndpoint(llm(), { model: 'm' }, ENV).chat([{ role: 'user', content: 'x' }]);
    expect(own.requests.at(-1)!.headers.authorization).toBe('Bearer sk-own-llm');
    await chatClientForEndpoint(llm(), { model: 'm', apiKeyEnv: 'LLM_API_KEY' }, ENV).chat([{ role: 'user', content: 'x' }]);
    expect(own.requests.at(-1)!.headers.authorization).toBe('Bearer sk-own-llm');
    await chatClientForEndpoint(llm(), { model: 'm', baseUrl: attacker.baseUrl }, ENV).chat([{ role: 'user', content: 'x' }]);
    expect(() => chatClientForEndpoint(llm(), { model: 'm', baseUrl: attacker.baseUrl, apiKeyEnv: 'LLM_API_KEY' }, ENV)).toThrow(/may only be sent to .*\(LLM_BASE_URL\)/);
    // The attacker's server saw one request, without any key.
    expect(attacker.requests).toHaveLength(1);
    expect(attacker.requests[0]!.headers.authorization).toBeUndefined();
  });
});
