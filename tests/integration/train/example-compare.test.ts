/**
 * Issue #15's "done when", as a user does it, on the real stack with the tiny CPU example and nothing scripted: one
 * config (examples/reviews/compare-tiny-cpu.json) trains two variants through `twinflow train --with-workers`,
 * evaluates them against the two no-LLM floors, writes the comparison table, chart and review page and waits; the
 * person saves the page with `twinflow train review` and approves with `twinflow train approve --reason`; the run
 * publishes (dry run) past a gate that can fail, with the decision in the lineage; then `twinflow model serve` serves
 * the published adapter from S3 and `twinflow ask` answers through LLM_BASE_URL with what that model wrote.
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeps } from '../../../activities/deps';
import { readTrainConfig } from '../../../cli/commands/train';
import { TwinflowClient } from '../../../client';
import { PROJECT_ROOT } from '../../../lib/config';
import { parseOutput } from '../../../lib/metrics/output-format';
import type { TrainInput, TrainResult } from '../../../lib/schemas/train';
import { reviewFormat } from '../../helpers/company-reviews';
import { TEST_ENV, testConfig } from '../../harness/stack';
import { MODELS_DIR, writeFixtureIndex } from '../rag/support/fixture-index';
import { untilReview } from './review-fixtures';
import { reviewsTinyModelDir } from './tiny-model';

const run = promisify(execFile);
const BIN = path.join(PROJECT_ROOT, 'bin', 'twinflow');
const CONFIG = path.join(PROJECT_ROOT, 'examples', 'reviews', 'compare-tiny-cpu.json');
const tag = randomUUID().slice(0, 8);
const queues = { TWINFLOW_TASK_QUEUE: `example-compare-${tag}`, TWINFLOW_GPU_TASK_QUEUE: `example-compare-gpu-${tag}` };
let dir: string;

/** A user's shell on this machine: the test stack's services, this file's queues, nothing else of the test process. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TWINFLOW_|TEMPORAL_|S3_|LLM_|RERANKER_|RAG_|LANCEDB_|VECTOR_STORE|EMBEDDING_)/.test(k)));
  return { ...base, ...TEST_ENV, ...queues, OMP_NUM_THREADS: '1', LANCEDB_URI: path.join(dir, 'lancedb'), RAG_COLLECTIONS: 'site', EMBEDDING_MODELS_DIR: MODELS_DIR, ...extra };
}

/** A long-running CLI command, its stdout lines (JSON events with --json) read as they come. */
function spawnCli(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(BIN, args, { cwd: PROJECT_ROOT, env }) as ChildProcessWithoutNullStreams;
  let stdout = '';
  let stderr = '';
  const lines: string[] = [];
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, lines, exited, stdout: () => stdout, stderr: () => stderr };
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-example-compare-'));
  reviewsTinyModelDir();
  // The user's data for `ask`: the fixture site, cleaned, chunked, embedded and loaded by the feature pipeline's functions.
  await writeFixtureIndex(path.join(dir, 'lancedb'), 'site', ['bbc-1']);
}, 900_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the tiny example, compared, reviewed, published and served', () => {
  it('one config: two variants and two floors, review page, CLI approval, gated dry-run publish with the decision, the served model answers ask', async () => {
    const example: TrainInput = readTrainConfig(CONFIG);
    expect(example.variants!.map((v) => v.name)).toEqual(['tiny-750-steps', 'tiny-1500-steps']);
    const cfg = testConfig();
    const deps = createDeps(cfg);
    const workflowId = `example-compare-${tag}`;
    const started = Date.now();

    // 1. The run, as `twinflow train` with its workers in the same process.
    const train = spawnCli(['train', '-c', CONFIG, '--with-workers', '--workflow-id', workflowId, '--json'], userEnv());
    let result: TrainResult;
    try {
      const twinflow = await TwinflowClient.connect(cfg);
      try {
        const waiting = await untilReview(twinflow, workflowId);
        expect(waiting.review).toMatchObject({ onTimeout: 'reject' });
      } finally {
        await twinflow.close();
      }
      // 2. The person reads the page, then approves from another shell.
      const page = path.join(dir, 'review.html');
      await run(BIN, ['train', 'review', workflowId, '--out', page], { cwd: PROJECT_ROOT, env: userEnv(), timeout: 120_000 });
      const html = fs.readFileSync(page, 'utf8');
      for (const model of ['train-mean', 'nearest-train', 'tiny-750-steps', 'tiny-1500-steps']) expect(html).toContain(model);
      const approve = await run(BIN, ['train', 'approve', workflowId, '--reason', 'beats both floors; the reviews follow the notes', '--by', 'reviewer@example', '--json'], {
        cwd: PROJECT_ROOT,
        env: userEnv(),
        timeout: 120_000,
      });
      expect(JSON.parse(approve.stdout)).toMatchObject({ workflowId, review: { decision: 'approve', by: 'reviewer@example' } });
      expect(await train.exited).toBe(0);
      result = (JSON.parse(train.stdout()) as { result: TrainResult }).result;
    } finally {
      if (train.child.exitCode === null) train.child.kill('SIGINT');
    }
    const rows = Object.fromEntries(result.evaluations.map((e) => [e.model, e]));
    console.log(`compare run: ${((Date.now() - started) / 1000).toFixed(1)} s\n${result.report.markdown}`);

    // 3. One table: the two floors and both variants on the same test split; chart and review page beside it.
    expect(Object.keys(rows)).toEqual(['train-mean', 'nearest-train', 'tiny-750-steps', 'tiny-1500-steps']);
    for (const row of Object.keys(rows)) expect(result.report.markdown).toContain(`| ${row} |`);
    expect(result.variants!.map((v) => [v.name, v.fineTune.metrics.globalStep])).toEqual([['tiny-750-steps', 750], ['tiny-1500-steps', 1500]]);
    expect(await deps.artifacts.getText(result.report.chartUri)).toContain('<svg');
    expect(result.report.reviewUri).toMatch(/\/report\/review\.html$/);

    // 4. The published variant passed a gate that fails an untrained model (example-gate.test.ts): both floors beaten.
    const published = rows['tiny-1500-steps']!;
    expect(published.ratingsRmse!).toBeLessThan(Math.min(rows['train-mean']!.ratingsRmse!, rows['nearest-train']!.ratingsRmse!));
    expect(published.rougeLsum!).toBeGreaterThan(rows['nearest-train']!.rougeLsum!);
    expect(result.publish).toMatchObject({ dryRun: true, gatePassed: true, repo: 'local/tiny-reviewer' });
    expect(result.publish!.reasons.every((r) => r.startsWith('pass:'))).toBe(true);
    expect(result.review).toMatchObject({ decision: 'approve', by: 'reviewer@example', reason: 'beats both floors; the reviews follow the notes', timedOut: false });
    const lineage = await deps.artifacts.getJson<{ review: { by: string; reason: string } }>(`${result.publish!.dryRunUri}twinflow_lineage.json`);
    expect(lineage.review).toMatchObject({ by: 'reviewer@example', reason: 'beats both floors; the reviews follow the notes' });
    const card = await deps.artifacts.getText(`${result.publish!.dryRunUri}README.md`);
    expect(card).toMatch(/- review: approved by reviewer@example at \S+: "beats both floors; the reviews follow the notes"/);
    expect(result.fineTune.adapterUri).toBe(result.variants![1]!.fineTune.adapterUri);

    // 5. The published adapter served from S3 on the example's base model; the twin answers.
    const serve = spawnCli(
      ['model', 'serve', '--json', '--model', example.model.baseModel, '--adapter', result.fineTune.adapterUri, '--name', 'twin', '--port', '0', '--device', 'cpu', '--max-new-tokens', '128'],
      userEnv(),
    );
    try {
      type ServeEvent = { event: string; url?: string; text?: string; stream?: boolean };
      const event = async (match: (e: ServeEvent) => boolean, after = 0) => {
        const find = () => serve.lines.slice(after).map((l) => JSON.parse(l) as ServeEvent).find(match);
        await expect.poll(() => find() !== undefined, { timeout: 300_000, interval: 500 }).toBe(true);
        return find()!;
      };
      const { url } = await event((e) => e.event === 'listening');
      // In the example's own task it writes a review and the ratings line in the trained format.
      const system = (example.dataset as { source: { template: { system: string } } }).source.template.system;
      const prompt = 'Review Quiet Forge 999, a retail company in Porto. My notes: culture warm, pay poor, hours flexible, verdict acceptable.';
      const direct = (await (await fetch(`${url}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'twin', temperature: 0, messages: [{ role: 'system', content: system }, { role: 'user', content: prompt }] }),
      })).json()) as { choices: Array<{ message: { content: string } }> };
      const parsed = parseOutput(direct.choices[0]!.message.content, reviewFormat);
      expect(parsed.ratings).toBeDefined();
      expect(parsed.text.split('\n').length).toBeGreaterThanOrEqual(2);

      // `ask` retrieves from the user's index and answers with exactly what the served model generated.
      const before = serve.lines.length;
      const ask = await run(BIN, ['ask', 'What', 'did', 'Obama', 'call', 'his', 'biggest', 'frustration?', '-k', '1'], {
        cwd: PROJECT_ROOT,
        env: userEnv({ LLM_BASE_URL: url!, LLM_MODEL: 'twin' }),
        timeout: 300_000,
      });
      // The answer is the one streamed completion; ask's other model calls (routing, rewriting) are not streamed.
      const completion = await event((e) => e.event === 'completion' && e.stream === true, before);
      const [answer, sources] = ask.stdout.split(/\n\nSources/);
      expect(answer!.trimEnd()).toBe(completion.text!.trimEnd());
      expect(answer!.trim().length).toBeGreaterThan(0);
      expect(sources).toMatch(/\[1\] /);
    } finally {
      serve.child.kill('SIGTERM');
      if (serve.child.exitCode === null) await serve.exited;
    }
  }, 1_500_000);
});
