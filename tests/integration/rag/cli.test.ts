/**
 * The `twinflow search`, `ask` and `eval retrieval` commands as a user runs them (bin/twinflow in a child process),
 * configured only through the environment, against a real LanceDB index of fixture pages and a local
 * chat-completions server.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../../activities';
import { createDeps } from '../../../activities/deps';
import { TwinflowClient } from '../../../client';
import { ArtifactStore } from '../../../lib/artifacts';
import { PROJECT_ROOT } from '../../../lib/config';
import { TEST_ENV, testConfig } from '../../harness/stack';
import { withWorker } from '../../harness/worker';
import { startOpenAIChatServer, type OpenAIChatServer } from '../../helpers/openai-chat-server';
import { MODELS_DIR, writeFixtureIndex } from './support/fixture-index';

const run = promisify(execFile);
const PAGES = ['002', 'aclu', 'bbc-1', 'cnet', 'spiceworks', 'theverge'];
let dir: string;
let llmServer: OpenAIChatServer;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-rag-cli-'));
  await writeFixtureIndex(path.join(dir, 'lancedb'), 'pages', PAGES);
  llmServer = await startOpenAIChatServer({ respond: () => ({ content: 'Obama called gun laws his biggest frustration [1].' }) });
});

afterAll(async () => {
  await llmServer?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function twinflow(args: string[], env: Record<string, string> = {}) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(LLM_|RERANKER_|RAG_|LANCEDB_|VECTOR_STORE|EMBEDDING_)/.test(k)));
  return run(path.join(PROJECT_ROOT, 'bin', 'twinflow'), args, {
    // bin/twinflow resolves tsx from the working directory, so it runs from the repository.
    cwd: PROJECT_ROOT,
    env: { ...base, LANCEDB_URI: path.join(dir, 'lancedb'), RAG_COLLECTIONS: 'pages', EMBEDDING_MODELS_DIR: MODELS_DIR, ...env },
    timeout: 120_000,
  }).catch((err: { code?: number; stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? '', code: err.code }));
}

describe('twinflow CLI', () => {
  it('search prints ranked chunks; a bad flag fails with one line naming it', async () => {
    const res = await twinflow(['search', 'Vidyard', 'video', 'platform', '-k', '2']);
    expect(res.stdout.split('\n')[0]).toMatch(/^1\. Rewriting Rules of Engagement with Video in 2020/);
    expect(res.stdout).toMatch(/\/spiceworks\//);
    expect(res.stdout).toMatch(/timings: .*search/);
    const bad = await twinflow(['search', 'x', '--filter', '{bad']);
    expect(bad).toMatchObject({ code: 2 });
    expect(bad.stderr.trim()).toMatch(/^twinflow: --filter: not JSON/);
  });

  it('ask streams the answer from the configured LLM, then the sources it cites', async () => {
    const res = await twinflow(['ask', 'What', 'did', 'Obama', 'call', 'his', 'biggest', 'frustration?', '-k', '3'], { LLM_BASE_URL: llmServer.baseUrl, LLM_MODEL: 'test-model' });
    const [answer, sources] = res.stdout.split(/\nSources \(\* = cited\)/);
    expect(answer!.trim()).toBe('Obama called gun laws his biggest frustration [1].');
    expect(sources).toMatch(/\n\*\[1\] Obama admits US gun laws are his 'biggest frustration'/);
    expect(llmServer.requests.at(-1)!.body.model).toBe('test-model');
  });

  it('serve starts the HTTP API with the configured token and stops on SIGTERM', async () => {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(LLM_|RERANKER_|RAG_|LANCEDB_|VECTOR_STORE|EMBEDDING_|TWINFLOW_API)/.test(k)));
    const child = spawn(path.join(PROJECT_ROOT, 'bin', 'twinflow'), ['serve', '--port', '0'], {
      cwd: PROJECT_ROOT,
      env: { ...base, LANCEDB_URI: path.join(dir, 'lancedb'), RAG_COLLECTIONS: 'pages', EMBEDDING_MODELS_DIR: MODELS_DIR, TWINFLOW_API_TOKEN: 'serve-test-token-0123' },
    });
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /twinflow API on (http:\/\/\S+) /.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
      });
      expect(out).toMatch(/bearer token required/);
      const denied = await fetch(`${url}/v1/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"Vidyard"}' });
      expect(denied.status).toBe(401);
      const ok = await fetch(`${url}/v1/search`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer serve-test-token-0123' }, body: '{"query":"Vidyard","limit":1}' });
      const body = (await ok.json()) as { hits: Array<{ payload: { url: string } }> };
      expect(body.hits[0]!.payload.url).toMatch(/\/spiceworks\/$/);
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    }
    expect(child.exitCode).toBe(0);
  });

  it('eval retrieval writes Markdown and JSON with metrics side by side', async () => {
    const queries = path.join(dir, 'queries.jsonl');
    fs.writeFileSync(
      queries,
      [
        { id: 'v', query: 'Vidyard', relevantPages: ['spiceworks'] },
        { id: 'o', query: 'What did Obama call the biggest frustration of his presidency?', relevantPages: ['bbc-1'], evidence: 'common sense gun safety laws' },
        { id: 'h', query: 'What did Alex Heath write about displays?', relevantPages: ['theverge'], kind: 'author' },
        { id: 'm', query: 'missing page', relevantPages: ['not-indexed'] },
      ]
        .map((q) => JSON.stringify(q))
        .join('\n'),
    );
    const res = await twinflow(['eval', 'retrieval', '--queries', queries, '--configs', 'vector,hybrid + self-query (rules)', '--out', path.join(dir, 'out'), '--compression', '300']);
    expect(res.stderr).not.toMatch(/Error/);
    const md = fs.readFileSync(path.join(dir, 'out', 'retrieval-eval.md'), 'utf8');
    expect(md).toMatch(/\| configuration \| R@1 \| R@3 \| R@5 \| R@10 \| MRR \| nDCG@10 \|/);
    expect(md).toMatch(/\| vector \| [\d.]+ \|/);
    expect(md).toMatch(/not-indexed" is not in the collection/);
    expect(md).toMatch(/Prompt compression to 300 tokens/);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'retrieval-eval.json'), 'utf8')) as {
      queries: number;
      configs: Array<{ name: string; mean: { mrr: number } }>;
      compression: { tokensAfter: { mean: number } };
    };
    expect(json.queries).toBe(3);
    expect(json.configs.map((c) => c.name)).toEqual(['vector', 'hybrid + self-query (rules)']);
    expect(json.configs[1]!.mean.mrr).toBe(1);
    expect(json.compression.tokensAfter.mean).toBeLessThanOrEqual(300);
  });
  it('eval retrieval --workflow evaluates in batches on the workers and reports the same metrics', async () => {
    const queries = path.join(dir, 'wf-queries.jsonl');
    const lines = [
      { id: 'v', query: 'Vidyard', relevantPages: ['spiceworks'] },
      { id: 'o', query: 'What did Obama call the biggest frustration of his presidency?', relevantPages: ['bbc-1'] },
      { id: 'h', query: 'What did Alex Heath write about displays?', relevantPages: ['theverge'], kind: 'author' },
      { id: 'c', query: 'civil liberties', relevantPages: ['aclu'] },
      { id: 'n', query: 'news about phones and laptops', relevantPages: ['cnet'] },
    ];
    fs.writeFileSync(queries, lines.map((q) => JSON.stringify(q)).join('\n'));
    const configs = 'vector,hybrid,hybrid + self-query (rules)';
    const direct = await twinflow(['eval', 'retrieval', '--queries', queries, '--configs', configs, '--out', path.join(dir, 'direct')]);
    expect(direct.stderr).not.toMatch(/Error/);
    const config = testConfig({ LANCEDB_URI: path.join(dir, 'lancedb'), RAG_COLLECTIONS: 'pages', EMBEDDING_MODELS_DIR: MODELS_DIR });
    await withWorker(config, createActivities(createDeps(config)), async ({ taskQueue }) => {
      const env = { ...TEST_ENV, TWINFLOW_TASK_QUEUE: taskQueue };
      const res = await twinflow(['eval', 'retrieval', '--workflow', '--batch-size', '2', '--queries', queries, '--configs', configs, '--out', path.join(dir, 'wf')], env);
      expect(res.stderr).toMatch(/started evalRetrieval eval-retrieval-\d+/);
      expect(res.stderr).not.toMatch(/Error/);
      type Report = { queries: number; configs: Array<{ name: string; mean: Record<string, unknown>; perQuery: Array<{ id: string; ranking: string[] }> }> };
      const read = (sub: string) => JSON.parse(fs.readFileSync(path.join(dir, sub, 'retrieval-eval.json'), 'utf8')) as Report;
      const [a, b] = [read('direct'), read('wf')];
      expect(b.queries).toBe(5);
      expect(b.configs.map((c) => c.name)).toEqual(['vector', 'hybrid', 'hybrid + self-query (rules)']);
      // 3 batches of at most 2 queries, merged: the same rankings and means as one run in one process.
      for (const [i, c] of b.configs.entries()) {
        expect(c.perQuery.map((q) => q.id)).toEqual(['v', 'o', 'h', 'c', 'n']);
        expect(c.perQuery.map((q) => q.ranking)).toEqual(a.configs[i]!.perQuery.map((q) => q.ranking));
        expect(c.mean).toEqual(a.configs[i]!.mean);
      }
      expect(fs.readFileSync(path.join(dir, 'wf', 'retrieval-eval.md'), 'utf8')).toMatch(/\| hybrid \+ self-query \(rules\) \| [\d.]+ \|/);

      // A malformed query set fails the workflow at once, naming the line, without retries.
      const artifacts = ArtifactStore.fromConfig(config);
      const bad = await artifacts.putBytes(`eval/retrieval/test/${taskQueue}.jsonl`, '{"id": "a", "query": "x", "relevantPages": ["aclu"]}\n{oops\n');
      const client = await TwinflowClient.connect({ ...config, temporal: { ...config.temporal, taskQueue } });
      try {
        const handle = await client.startRetrievalEval({ queries: bad.uri });
        const failure = await handle.result().then(
          () => undefined,
          (err: { cause?: { cause?: { message?: string; type?: string } } }) => err.cause?.cause, // workflow ← activity ← application failure
        );
        expect(failure?.message).toMatch(/:2: not JSON/);
        expect(failure?.type).toBe('InvalidInput');
        const history = await handle.fetchHistory();
        expect(history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt)).toEqual([1]);
        await expect(client.startRetrievalEval({ queries: bad.uri, batchSize: 0 })).rejects.toThrow(/batchSize/);
      } finally {
        await client.close();
      }
    });
  });
});
