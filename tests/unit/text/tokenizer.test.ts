import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { env } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer, TokenizerNotFoundError } from '../../../lib/text';
import { MODEL_NAME, modelsDir } from './fixtures';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-tokenizer-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('loadTokenizer', () => {
  it('loads MiniLM from the models folder and tokenizes as BERT does, without special tokens', async () => {
    const tok = await loadTokenizer(MODEL_NAME, { modelsDir: modelsDir() });
    // sentence-transformers' max_seq_length (sentence_bert_config.json), under the tokenizer's model_max_length of 512.
    expect(tok.maxTokens).toBe(256);
    expect(tok.additive).toBe(true);
    const ids = tok.encode('Hello, World!');
    // [CLS] = 101 and [SEP] = 102 are not added; lower-cased WordPiece ids of "hello" "," "world" "!".
    expect(ids).toEqual([7592, 1010, 2088, 999]);
    expect(tok.decode(ids)).toBe('hello, world!');
    expect(tok.count('Hello, World!')).toBe(4);
    expect(tok.count('')).toBe(0);
    expect(tok.count('tokenization')).toBe(2); // "token" "##ization"
  });

  it('caches one instance per location', async () => {
    const a = await loadTokenizer(MODEL_NAME, { modelsDir: modelsDir() });
    const b = await loadTokenizer(path.join(modelsDir(), MODEL_NAME));
    expect(b).toBe(a);
  });

  it('reads the model folder when given as a path', async () => {
    const tok = await loadTokenizer(path.join(modelsDir(), MODEL_NAME));
    expect(tok.source).toBe(path.join(modelsDir(), MODEL_NAME));
  });

  it('clamps an absurd model_max_length to the model size from config.json, or 512', async () => {
    const src = path.join(modelsDir(), MODEL_NAME);
    const copy = (name: string, edit: (cfg: Record<string, unknown>) => void, positions?: number) => {
      const dir = path.join(tmp, name);
      fs.mkdirSync(dir, { recursive: true });
      fs.copyFileSync(path.join(src, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
      const cfg = JSON.parse(fs.readFileSync(path.join(src, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
      edit(cfg);
      fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(cfg));
      if (positions) fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ max_position_embeddings: positions }));
      return dir;
    };
    const unset = await loadTokenizer(copy('unset', (c) => delete c.model_max_length));
    expect(unset.maxTokens).toBe(512);
    const huge = await loadTokenizer(copy('huge', (c) => (c.model_max_length = 1e30), 8192));
    expect(huge.maxTokens).toBe(8192);
  });

  it('fails clearly when the tokenizer is not there and remote loading is off', async () => {
    await expect(loadTokenizer('no-such-model', { modelsDir: tmp })).rejects.toThrow(TokenizerNotFoundError);
    await expect(loadTokenizer('no-such-model', { modelsDir: tmp })).rejects.toThrow(
      new RegExp(`no tokenizer for "no-such-model".*${tmp.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/no-such-model.*fetch-models\\.sh`),
    );
    await expect(loadTokenizer('')).rejects.toThrow(/empty/);
  });

  it('downloads from the Hub only when allowRemote is set (a local stand-in serving the Hub file URLs)', async () => {
    // The Hub's file endpoint: GET /<owner>/<name>/resolve/<revision>/<file>, answered here from the local copy.
    const requests: string[] = [];
    const server = http.createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      const m = /^\/test-org\/minilm-copy\/resolve\/main\/([\w.]+)$/.exec(req.url ?? '');
      const file = m && path.join(modelsDir(), MODEL_NAME, m[1]!);
      if (!file || !fs.existsSync(file)) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('Entry not found');
        return;
      }
      const body = fs.readFileSync(file);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const saved = { remoteHost: env.remoteHost, cacheDir: env.cacheDir };
    env.remoteHost = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    env.cacheDir = path.join(tmp, 'hf-cache');
    try {
      await expect(loadTokenizer('test-org/minilm-copy', { modelsDir: tmp })).rejects.toThrow(/allowRemote/);
      expect(requests).toEqual([]);
      const remote = await loadTokenizer('test-org/minilm-copy', { modelsDir: tmp, allowRemote: true });
      expect(requests.some((r) => r === 'GET /test-org/minilm-copy/resolve/main/tokenizer.json')).toBe(true);
      expect(remote.source).toBe('test-org/minilm-copy');
      expect(remote.maxTokens).toBe(512);
      // Not inspected for additivity (only local folders are): the chunker measures its windows instead.
      expect(remote.additive).toBe(false);
      expect(remote.encode('Hello, World!')).toEqual([7592, 1010, 2088, 999]);
    } finally {
      Object.assign(env, saved);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
