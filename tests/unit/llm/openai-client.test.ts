import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/config';
import { openAIClient } from '../../../lib/llm/openai-client';

describe('openAIClient', () => {
  const options = { baseUrl: 'http://127.0.0.1:1/v1', timeoutMs: 1000 };

  it('refuses a worker that sets OPENAI_CUSTOM_HEADERS (the package would send them to input-chosen endpoints)', () => {
    expect(() => openAIClient(options, { OPENAI_CUSTOM_HEADERS: 'X-Secret: s3cr3t' })).toThrow(ConfigError);
    expect(() => openAIClient(options, { OPENAI_CUSTOM_HEADERS: 'X-Secret: s3cr3t' })).toThrow(/OPENAI_CUSTOM_HEADERS is set on this worker/);
  });

  it('builds a client without it', () => {
    expect(openAIClient(options, {}).baseURL).toBe('http://127.0.0.1:1/v1');
  });
});
