/**
 * Secrets stay on the workers (issue #12): workers whose environment holds distinctive secret values (the LLM key,
 * a key lent to input through TWINFLOW_API_KEYS, the embedding key, the Hugging Face token, a git credential) run
 * every workflow type on the real stack (ingest, sync, evalRetrieval, a tiny CPU train that evaluates baselines
 * with both LLM keys and publishes to a Hub stand-in; and failing runs), and none of those values appears in:
 *
 *   - the complete history of every run on the task queue, children included (inputs, results, failures,
 *     heartbeat details, memos, search attributes), and what `describe` shows of each (pending activities, memo,
 *     search attributes);
 *   - the worker logs (the Temporal runtime's logger, this process's stdout/stderr, the trainer's log files);
 *   - every S3 object written in the test bucket since the test started, and every file committed to the Hub.
 *
 * The scan can fail: a planted value, put where each channel carries it (a source id in workflow input, a document's
 * text in S3, a workflow id in the logs), is found in each, and the fakes prove each secret was really used.
 *
 * Its own command, `npm run test:secrets` (283 s measured on 2 busy cores: a real fine-tune of the tiny model).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeps } from '../../../activities/deps';
import type { TrainInput } from '../../../lib/schemas/train';
import { testConfig } from '../../harness/stack';
import { withTrainWorkers } from '../../harness/train-workers';
import { tinyCompanyTrainInput } from '../../helpers/company-reviews';
import { type GitHttpServer, makeBareRepo, startGitHttpServer } from '../../helpers/git-http-server';
import { type HfHubServer, startHfHubServer } from '../../helpers/hf-hub-server';
import { type OpenAIChatServer, startOpenAIChatServer } from '../../helpers/openai-chat-server';
import { type OpenAIServer, startOpenAIServer } from '../../helpers/openai-server';
import { tinyModelDir } from '../train/tiny-model';

const RUN = randomUUID().replace(/-/g, '').slice(0, 12);
/** Distinctive values: nothing else in a history, a log or an artifact could contain them by chance. */
const SECRETS = {
  LLM_API_KEY: `sk-llm-scan${RUN}`,
  TEACHER_KEY: `sk-teacher-scan${RUN}`,
  EMBEDDING_API_KEY: `sk-embed-scan${RUN}`,
  HF_TOKEN: `hf_scan${RUN}`,
  GIT_CREDENTIAL: `gitcred-scan${RUN}`,
};
const PLANTED = `planted${RUN}`;

// Every log line of this process: the Temporal runtime's logger (activity, workflow and worker logs) and whatever is
// written to stdout/stderr. Installed before any worker exists (the harness keeps an installed runtime).
const logs: string[] = [];
Runtime.install({
  logger: new DefaultLogger('TRACE', (entry) => logs.push(`${entry.level} ${entry.message} ${safeJson(entry.meta)}`)),
  shutdownSignals: [],
});
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    logs.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return write(chunk, ...rest);
  }) as typeof stream.write;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x instanceof Uint8Array ? Buffer.from(x).toString('utf8') : x)) ?? '';
  } catch {
    return String(v);
  }
}

/** Every string in a value, Uint8Arrays (Temporal payloads) decoded as UTF-8, so nothing hides in base64 or bytes. */
function texts(value: unknown, out: string[] = [], seen = new Set<unknown>()): string[] {
  if (typeof value === 'string') out.push(value);
  else if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('utf8'));
  else if (value && typeof value === 'object' && !seen.has(value)) {
    seen.add(value);
    for (const v of Array.isArray(value) ? value : Object.values(value)) texts(v, out, seen);
  }
  return out;
}

interface Haystack {
  where: string;
  text: string | Buffer;
}

/** Which needles occur in which haystacks ("<needle> in <where>"). */
function scan(haystacks: readonly Haystack[], needles: readonly string[]): string[] {
  const hits: string[] = [];
  for (const h of haystacks) for (const n of needles) if (h.text.includes(n)) hits.push(`${n} in ${h.where}`);
  return hits;
}

// ---- the fakes: an LLM endpoint per key, an embedding endpoint, the Hub, a git server that wants a credential ----

let llm: OpenAIChatServer;
let teacher: OpenAIChatServer;
let embed: OpenAIServer;
let hub: HfHubServer;
let gitServer: GitHttpServer;
let gitUrl: string;
const gitAuthorizations: string[] = [];
let work: string;
let trainerWork: string;
let tiny: string;
const started = new Date(Date.now() - 2000);

beforeAll(async () => {
  tiny = tinyModelDir();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-secret-scan-'));
  trainerWork = path.join(work, 'gpu-work');
  llm = await startOpenAIChatServer({ apiKey: SECRETS.LLM_API_KEY, respond: () => ({ content: 'A fine place to work.' }) });
  teacher = await startOpenAIChatServer({ apiKey: SECRETS.TEACHER_KEY, respond: () => ({ content: 'A good company.' }) });
  embed = await startOpenAIServer({ dimension: 16, apiKey: SECRETS.EMBEDDING_API_KEY });
  hub = await startHfHubServer({ token: SECRETS.HF_TOKEN });

  // A repository served over git's smart HTTP protocol (git http-backend) only to requests with the credential.
  makeBareRepo(work, 'private', { 'README.md': `# Private repository\n\n${'How the team ships a release, step by step, with reviews and a changelog. '.repeat(6)}\n` });
  gitServer = await startGitHttpServer(work, {
    intercept: (req, res) => {
      gitAuthorizations.push(req.headers.authorization ?? '');
      if (req.headers.authorization === `Bearer ${SECRETS.GIT_CREDENTIAL}`) return false;
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="git"' }).end('no credential');
      return true;
    },
  });
  gitUrl = `${gitServer.url}/private.git`;

  // The workers' environment (this process's: the workers run in it). git reads its credential from GIT_CONFIG_*,
  // the way a worker is given one (a credential helper works alike); the lent key is read by name (apiKeyEnv).
  Object.assign(process.env, {
    TEACHER_KEY: SECRETS.TEACHER_KEY,
    HF_TOKEN: SECRETS.HF_TOKEN,
    LLM_API_KEY: SECRETS.LLM_API_KEY,
    EMBEDDING_API_KEY: SECRETS.EMBEDDING_API_KEY,
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: `Authorization: Bearer ${SECRETS.GIT_CREDENTIAL}`,
    TWINFLOW_TRAINER_WORK_DIR: trainerWork,
  });
}, 300_000);

afterAll(async () => {
  for (const k of ['TEACHER_KEY', 'HF_TOKEN', 'LLM_API_KEY', 'EMBEDDING_API_KEY', 'GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0', 'GIT_CONFIG_VALUE_0', 'TWINFLOW_TRAINER_WORK_DIR']) delete process.env[k];
  await Promise.all([llm?.close(), teacher?.close(), embed?.close(), hub?.close()]);
  await gitServer?.close();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

function trainInput(name: string, gpuTaskQueue: string, patch: Partial<TrainInput> = {}): TrainInput {
  return tinyCompanyTrainInput(
    {
      name,
      tiny,
      model: 'tiny-scan',
      dataset: { name: `scan-${RUN}`, system: null },
      training: { maxSteps: 2, saveSteps: 2 },
      gpu: { taskQueue: gpuTaskQueue, heartbeatTimeout: '30 seconds', progressIntervalSeconds: 0.5 },
    },
    {
      evaluation: {
        baselines: [
          { model: 'gpt-4o-mini', name: 'own-key' }, // LLM_API_KEY, to LLM_BASE_URL
          { model: 'gpt-4o-mini', name: 'lent-key', apiKeyEnv: 'TEACHER_KEY' }, // declared in TWINFLOW_API_KEYS
        ],
      },
      publish: { repo: `acme/scan-${RUN}`, gate: { minRougeLsum: 0 } },
      ...patch,
    },
  );
}

describe('secrets stay on the workers', () => {
  it('no secret value in any history, log line or artifact of every workflow type, failures included', async () => {
    const config = testConfig({
      LANCEDB_URI: path.join(work, 'lancedb'),
      EMBEDDING_PROVIDER: 'openai',
      EMBEDDING_BASE_URL: embed.baseUrl,
      EMBEDDING_API_KEY: SECRETS.EMBEDDING_API_KEY,
      LLM_BASE_URL: llm.baseUrl,
      LLM_API_KEY: SECRETS.LLM_API_KEY,
      TWINFLOW_API_KEYS: `TEACHER_KEY=${teacher.baseUrl}`,
      HF_TOKEN: SECRETS.HF_TOKEN,
      HF_HUB_URL: hub.url,
    });
    const deps = createDeps(config);
    await deps.artifacts.ensureBucket();
    const notes = path.join(work, 'notes');
    fs.mkdirSync(notes);
    fs.writeFileSync(path.join(notes, 'release.md'), `# Releases\n\n${`The ${PLANTED} release train leaves every other Tuesday, reviewed and tagged. `.repeat(5)}\n`);
    const collection = `scan_${RUN}`;
    const sources = [
      { type: 'folder', id: `notes-${PLANTED}`, path: notes },
      { type: 'git', id: 'private-repo', url: gitUrl },
    ];
    const gpuTaskQueue = `gpu-scan-${RUN}`;
    const ids: string[] = [];

    const histories: Haystack[] = [];
    // The histories are read once every run has ended, while the workers still poll.
    await withTrainWorkers(
      config,
      async ({ client, taskQueue }) => {
        const run = async (type: string, id: string, input: unknown, fails = false) => {
          ids.push(id);
          const handle = await client.workflow.start(type, { taskQueue, workflowId: id, args: [input] });
          if (fails) await expect(handle.result()).rejects.toThrow();
          else return handle.result();
        };
        const ingest = await run('ingest', `scan-ingest-${PLANTED}`, { collection, sources });
        expect((ingest as { documents: { loaded: number } }).documents.loaded).toBe(2); // the folder note and the private README
        await run('sync', `scan-sync-${RUN}`, { collection, sources });
        const store = await deps.vectorStore();
        const docIds: string[] = [];
        for await (const p of store.scroll(collection)) docIds.push(p.payload.docId);
        expect(docIds.length).toBeGreaterThan(0);
        const queries = await deps.artifacts.putBytes(`test/secret-scan/${RUN}/queries.jsonl`, JSON.stringify({ id: 'q1', query: 'release train', relevantDocIds: [docIds[0]] }));
        await run('evalRetrieval', `scan-eval-${RUN}`, { queries: queries.uri, collections: [collection], configs: ['vector'] });
        await run('train', `scan-train-${RUN}`, trainInput(`scan-${RUN}`, gpuTaskQueue));
        // Failing runs: an input naming a worker credential, and records the worker does not allow.
        const refused = trainInput(`scan-refused-${RUN}`, gpuTaskQueue, { evaluation: { baselines: [{ model: 'm', apiKeyEnv: 'HF_TOKEN' }] } } as Partial<TrainInput>);
        await run('train', `scan-fail-credential-${RUN}`, refused, true);
        const outside = trainInput(`scan-outside-${RUN}`, gpuTaskQueue);
        (outside.dataset as { source: { uri: string } }).source.uri = '/etc/passwd';
        await run('train', `scan-fail-path-${RUN}`, outside, true);
        await collectHistories(client, taskQueue, ids, histories);
      },
      { deps, gpuTaskQueue },
    );

    // Every secret was really in play: each fake saw its own value (and only its own).
    expect(llm.requests.some((r) => r.headers.authorization === `Bearer ${SECRETS.LLM_API_KEY}`)).toBe(true);
    expect(teacher.requests.some((r) => r.headers.authorization === `Bearer ${SECRETS.TEACHER_KEY}`)).toBe(true);
    expect(embed.requests.some((r) => r.headers.authorization === `Bearer ${SECRETS.EMBEDDING_API_KEY}`)).toBe(true);
    expect(hub.requests.some((r) => r.authorization === `Bearer ${SECRETS.HF_TOKEN}`)).toBe(true);
    expect(gitAuthorizations).toContain(`Bearer ${SECRETS.GIT_CREDENTIAL}`);
    expect(hub.repos.get(`acme/scan-${RUN}`)).toBeDefined();

    const artifacts = await collectArtifacts(deps.artifacts.s3, deps.artifacts.bucket);
    for (const [id, repo] of hub.repos) for (const [file, bytes] of repo.files) artifacts.push({ where: `hub ${id}/${file}`, text: bytes });
    const logFiles = listFiles(trainerWork).filter((f) => f.endsWith('.log')).map((f) => ({ where: `log file ${f}`, text: fs.readFileSync(f) }));
    const logLines: Haystack[] = [{ where: 'worker logs', text: logs.join('\n') }, ...logFiles];

    // The scan can fail: a planted value is found in each channel that carries it.
    expect(scan(histories, [PLANTED]).length, 'planted source id in the histories').toBeGreaterThan(0);
    expect(scan(artifacts, [PLANTED]).length, 'planted document text in S3').toBeGreaterThan(0);
    expect(scan(logLines, [PLANTED]).length, 'planted workflow id in the logs').toBeGreaterThan(0);
    expect(histories.length).toBeGreaterThanOrEqual(ids.length);

    const secrets = Object.values(SECRETS);
    expect(scan(histories, secrets)).toEqual([]);
    expect(scan(logLines, secrets)).toEqual([]);
    expect(scan(artifacts, secrets)).toEqual([]);
  }, 900_000);
});

/** The complete history and description of every run on the task queue (children included) and of the given ids. */
async function collectHistories(client: Client, taskQueue: string, ids: readonly string[], out: Haystack[]): Promise<void> {
  const runs = new Map<string, string | undefined>(ids.map((id) => [id, undefined]));
  // Visibility is eventually consistent: wait until every started run is listed, then take the children too.
  for (let i = 0; i < 50; i++) {
    const listed: Array<{ workflowId: string; runId: string }> = [];
    for await (const w of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) listed.push(w);
    for (const w of listed) runs.set(w.workflowId, w.runId);
    if (ids.every((id) => listed.some((w) => w.workflowId === id))) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const [workflowId, runId] of runs) {
    const handle = client.workflow.getHandle(workflowId, runId);
    const history = await handle.fetchHistory();
    const described = await handle.describe();
    out.push({ where: `history of ${workflowId}`, text: texts(history).join('\n') });
    out.push({ where: `description of ${workflowId}`, text: [...texts(described.raw), safeJson(described.memo), safeJson(described.searchAttributes)].join('\n') });
  }
}

/** Every object written to the bucket since the test started (other tests' too: they must not hold these values either). */
async function collectArtifacts(s3: S3Client, bucket: string): Promise<Haystack[]> {
  const out: Haystack[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      if (!o.Key || !o.LastModified || o.LastModified < started) continue;
      try {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }));
        out.push({ where: `s3://${bucket}/${o.Key}`, text: Buffer.from(await got.Body!.transformToByteArray()) });
      } catch {
        // Deleted since it was listed (another test's cleanup): nothing left to leak.
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}
