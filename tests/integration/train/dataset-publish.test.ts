/**
 * Dataset builds and publishing against real MinIO (no trainer): CSV records from S3, teacher-generated pairs from
 * cleaned documents through an OpenAI-compatible server, a dry-run publish and a publish to an existing Hub repo.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDataset } from '../../../activities/dataset/build';
import { createDeps } from '../../../activities/deps';
import { createPublishActivities, type PublishInput } from '../../../activities/publish';
import { PROJECT_ROOT } from '../../../lib/config';
import type { CleanDocument } from '../../../lib/schemas/documents';
import { type DatasetManifest, datasetSpecSchema, type Example, type PublishResult } from '../../../lib/schemas/train';
import { testConfig } from '../../harness/stack';
import { type HfHubServer, startHfHubServer } from '../../helpers/hf-hub-server';
import { publishInput, uploadTinyAdapter } from '../../helpers/publish-input';
import { type OpenAIChatServer, startOpenAIChatServer } from '../../helpers/openai-chat-server';

const MINILM = path.join(PROJECT_ROOT, '.twinflow', 'models', 'all-MiniLM-L6-v2');
const HF_TOKEN = 'hf_dataset_publish_token';
const run = randomUUID().slice(0, 8);

let chat: OpenAIChatServer;
let hub: HfHubServer;
beforeAll(async () => {
  chat = await startOpenAIChatServer({ apiKey: 'sk-teacher' });
  hub = await startHfHubServer({ token: HF_TOKEN });
});
afterAll(async () => {
  await chat.close();
  await hub.close();
});

describe('dataset build on MinIO', () => {
  const config = testConfig({ LLM_BASE_URL: 'http://127.0.0.1:9/v1', LLM_API_KEY: 'unused' });
  const deps = createDeps(config);

  it('builds a versioned dataset from CSV in S3, and the same data gives the same version', async () => {
    await deps.artifacts.ensureBucket();
    const csvUri = deps.artifacts.uri(`test-inputs/${run}/companies.csv`);
    await deps.artifacts.putBytes(csvUri, fs.readFileSync(path.join(PROJECT_ROOT, 'examples/reviews/companies.csv')), 'text/csv');
    const spec = datasetSpecSchema.parse({
      name: `csv-${run}`,
      source: { kind: 'records', uri: csvUri, idField: 'id', template: { user: 'Review {{name}}: {{description}}', response: '{{review}}', ratingFields: { balance: 'work_life_balance' } } },
      format: { ratings: { keys: ['overall', 'culture', 'compensation', 'balance'] } },
    });
    const opts = { spec, tokenizer: MINILM, maxSeqLength: 256, artifacts: deps.artifacts, config, lineage: { workflowId: 'wf', runId: 'run' } };
    const a = await buildDataset(opts);
    const b = await buildDataset(opts);
    expect(b.version).toBe(a.version);
    expect(a.manifestUri).toBe(deps.artifacts.uri(`datasets/csv-${run}/${a.version}/manifest.json`));
    expect(a.counts).toEqual({ train: 44, validation: 6, test: 6 });
    const manifest = await deps.artifacts.getJson<DatasetManifest>(a.manifestUri);
    expect(manifest.stats).toMatchObject({ input: 60, invalid: 0, exactDuplicates: 2, nearDuplicates: 2, tooLong: 0, kept: 56 });
    expect(manifest.stats.tokens.count).toBe(56);
    expect(manifest.stats.tokens.p50! <= manifest.stats.tokens.p90! && manifest.stats.tokens.p90! <= manifest.stats.tokens.max!).toBe(true);
    expect(manifest.lineage).toMatchObject({ workflowId: 'wf', runId: 'run', sourceUri: csvUri });
    const train = await deps.artifacts.readAllJsonl<Example>(a.trainUri);
    expect(train[0]!.messages.at(-1)!.content).toMatch(/\n\nRatings: \{"overall":\d,"culture":\d,"compensation":\d,"balance":\d\}$/);
    const card = await deps.artifacts.getText(a.cardUri);
    expect(card).toContain('| test | 6 |');
    expect(card).toContain('exact duplicates: 2; near-duplicates');

    // A tighter length limit drops the longest examples and makes another version.
    const short = await buildDataset({ ...opts, maxSeqLength: manifest.stats.tokens.p50! });
    expect(short.version).not.toBe(a.version);
    const shortManifest = await deps.artifacts.getJson<DatasetManifest>(short.manifestUri);
    expect(shortManifest.stats.tooLong).toBeGreaterThan(0);
    expect(shortManifest.stats.tokens.max).toBeLessThanOrEqual(manifest.stats.tokens.p50!);
  });

  it('generates instruction-answer pairs from cleaned documents with a teacher LLM, re-asking on invalid JSON and caching answers', async () => {
    const cfg = testConfig({ LLM_BASE_URL: chat.baseUrl, LLM_API_KEY: 'sk-teacher' });
    const d = createDeps(cfg);
    const docs: CleanDocument[] = ['alpha', 'beta', 'gamma'].map((w, i) => ({
      docId: `doc-${run}-${i}`,
      sourceId: 'blog',
      sourceType: 'folder',
      location: `/blog/${w}.md`,
      title: `On ${w}`,
      // The run id in the text keeps this run's prompts (the teacher cache keys) apart from earlier runs'.
      markdown: `# On ${w}\n\nThis post (${run}) about ${w} explains why durable workflows matter for ${w} pipelines.\n\nIt ends with advice for ${w} teams.`,
      contentHash: `h-${run}-${i}`,
      tags: [],
      metadata: {},
    }));
    const docsUri = d.artifacts.uri(`test-inputs/${run}/clean.jsonl`);
    await d.artifacts.putJsonl(docsUri, docs);
    let calls = 0;
    chat.setResponder((req) => {
      calls += 1;
      const text = req.body.messages!.at(-1)!.content;
      const topic = /Title: On (\w+)/.exec(text)?.[1] ?? 'x';
      if (calls === 1) return { content: '{"pairs": [ {"instruction": "broken' }; // invalid JSON: re-asked
      return {
        content: JSON.stringify({
          pairs: [
            { instruction: `Why do durable workflows matter for ${topic}?`, answer: `Because ${topic} pipelines must survive crashes and retries without losing work.` },
            { instruction: `What advice do you give ${topic} teams?`, answer: `Keep ${topic} steps idempotent and pass data by reference between them.` },
          ],
        }),
        usage: { prompt_tokens: 100, completion_tokens: 50 },
      };
    });
    const spec = datasetSpecSchema.parse({
      name: `docs-${run}`,
      source: { kind: 'documents', uri: docsUri, teacher: { model: 'gpt-4o-mini', maxConcurrency: 2 }, pairsPerDocument: 2 },
      split: { validation: 0, test: 0.2, seed: 1 },
    });
    const opts = { spec, tokenizer: MINILM, maxSeqLength: 512, artifacts: d.artifacts, config: cfg, lineage: {} };
    const ref = await buildDataset(opts);
    expect(ref.counts.train + ref.counts.test).toBe(6);
    const manifest = await d.artifacts.getJson<DatasetManifest>(ref.manifestUri);
    expect(manifest.stats.teacher).toMatchObject({ requests: 4, failedWindows: 0, cacheHits: 0 });
    expect(manifest.stats.teacher!.costUsd).toBeGreaterThan(0);
    const repair = chat.requests.find((r) => r.body.messages!.some((m) => m.role === 'user' && m.content.startsWith('Your previous reply cannot be used')));
    expect(repair).toBeDefined();
    expect(chat.requests.every((r) => r.headers.authorization === 'Bearer sk-teacher' && r.body.response_format?.type === 'json_object')).toBe(true);
    const examples = [...(await d.artifacts.readAllJsonl<Example>(ref.trainUri)), ...(await d.artifacts.readAllJsonl<Example>(ref.testUri))];
    expect(examples.every((e) => e.messages[0]!.role === 'system' && e.messages[2]!.content.length >= 20)).toBe(true);

    // Rebuilding reads the teacher's answers from the S3 cache: no new request, same version.
    const before = chat.requests.length;
    const again = await buildDataset(opts);
    expect(chat.requests.length).toBe(before);
    expect(again.version).toBe(ref.version);
    expect((await d.artifacts.getJson<DatasetManifest>(again.manifestUri)).stats.teacher).toMatchObject({ requests: 0, cacheHits: 3 });
  });
});

describe('publish on MinIO', () => {
  let adapterUri: string;
  const input = (publish: object): PublishInput => publishInput(adapterUri, publish);

  beforeAll(async () => {
    const deps = createDeps(testConfig());
    await deps.artifacts.ensureBucket();
    adapterUri = await uploadTinyAdapter(deps.artifacts, `test-inputs/${run}/adapter`, { 'tokenizer.json': '{"model": {}}' });
  });

  it('dry run writes the exact files to S3 and sends nothing to the Hub', async () => {
    const config = testConfig({ HF_HUB_URL: hub.url });
    const deps = createDeps(config);
    const { publishModel } = createPublishActivities(deps);
    const before = hub.requests.length;
    const r = (await new MockActivityEnvironment().run(publishModel, input({ repo: 'acme/dry', dryRun: true, gate: { maxRmse: 1 } }))) as PublishResult;
    expect(r).toMatchObject({ published: false, dryRun: true, gatePassed: true, repo: 'acme/dry' });
    expect(r.files.sort()).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors', 'tokenizer.json', 'twinflow_lineage.json']);
    expect((await deps.artifacts.getBytes(`${r.dryRunUri}adapter_model.safetensors`)).equals(Buffer.from([0, 1, 2, 3, 0, 255, 7, 8]))).toBe(true);
    expect(await deps.artifacts.getText(`${r.dryRunUri}README.md`)).toContain('library_name: peft');
    expect(hub.requests.length).toBe(before);
  });

  it('commits to an existing repo (409 on create), through LFS for the binary file, with the worker token', async () => {
    const config = testConfig({ HF_HUB_URL: hub.url, HF_TOKEN });
    const { publishModel } = createPublishActivities(createDeps(config));
    const first = await new MockActivityEnvironment().run(publishModel, input({ repo: 'acme/again', private: false, gate: { minRougeLsum: 0.4 } }));
    // Another workflow run (a re-run): a retry of the same run would find its own commit and not commit again.
    const second = await new MockActivityEnvironment({ workflowExecution: { workflowId: 'test', runId: 'second-run' } }).run(publishModel, input({ repo: 'acme/again', private: false, gate: { minRougeLsum: 0.4 } }));
    expect(first).toMatchObject({ published: true, repoUrl: `${hub.url}/acme/again` });
    expect(second).toMatchObject({ published: true });
    const repo = hub.repos.get('acme/again')!;
    expect(repo.private).toBe(false);
    expect(repo.commits).toHaveLength(2);
    expect(repo.files.get('adapter_model.safetensors')!.equals(Buffer.from([0, 1, 2, 3, 0, 255, 7, 8]))).toBe(true);
    const creates = hub.requests.filter((q) => q.path === '/api/repos/create');
    expect(creates).toHaveLength(2); // the second answered 409 and the commit went on
    const commits = hub.requests.filter((q) => q.path === '/api/models/acme/again/commit/main');
    const lines = commits[0]!.body.toString('utf8').split('\n').map((l) => JSON.parse(l) as { key: string; value: { path?: string } });
    expect(lines.find((l) => l.value.path === 'adapter_model.safetensors')!.key).toBe('lfsFile');
    expect(lines.find((l) => l.value.path === 'README.md')!.key).toBe('file');
  });

  it('fails without retry when the worker has no HF_TOKEN', async () => {
    const config = testConfig({ HF_HUB_URL: hub.url });
    const { publishModel } = createPublishActivities(createDeps(config));
    const err = await new MockActivityEnvironment().run(publishModel, input({ repo: 'acme/none', gate: { minRougeLsum: 0.4 } })).catch((e: unknown) => e);
    expect(err).toMatchObject({ message: 'HF_TOKEN is not set in the environment of the worker that publishes', nonRetryable: true });
  });
});
