/**
 * Generates docs/workflows.md: every workflow type, its input as JSON Schema (from the zod schemas the workflows
 * validate with, z.toJSONSchema), copy-paste JSON examples for the Web UI's "Start a Workflow" form, and the search
 * attributes to find runs by.
 *
 *   npm run docs:workflows            # rewrite docs/workflows.md
 *   npm run docs:workflows -- --check # exit 1 when it is stale (tests/unit/workflows-doc.test.ts does the same)
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { SEARCH_ATTRIBUTES } from '../infra/stack';
import { stackCheckInputSchema } from '../lib/schemas/diagnostics';
import { retrievalEvalInputSchema } from '../lib/schemas/retrieval-eval';
import { ingestInputSchema } from '../lib/schemas/ingest';
import { syncInputSchema, syncOnEventsInputSchema } from '../lib/schemas/sync';
import { evaluateModelInputSchema } from '../lib/schemas/model-eval';
import { trainInputSchema } from '../lib/schemas/train';

export const DOC_PATH = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'workflows.md');

export interface WorkflowDoc {
  type: string;
  summary: string;
  /** How it is usually started, besides the UI. */
  startedBy: string;
  tags: string;
  result: string;
  schema?: z.ZodType;
  examples: Array<{ title: string; input: unknown }>;
}

export const WORKFLOWS: WorkflowDoc[] = [
  {
    type: 'ingest',
    summary: 'The feature pipeline: crawl every source (one child workflow `ingestSource` each), clean, drop duplicates, chunk, embed and load into the collection.',
    startedBy: '`twinflow ingest`, `TwinflowClient.ingest`, any Temporal client by type name',
    tags: 'TwinflowPipeline=ingest, TwinflowCollection, TwinflowSource, TwinflowSourceType',
    result: 'documents fetched / cleaned / loaded and skipped / failed / dropped by reason, chunks, vectors, per-source summaries, artifact URIs, timings',
    schema: ingestInputSchema,
    examples: [
      { title: 'a folder of notes (a path on the worker\'s machine)', input: { collection: 'notes', sources: [{ type: 'folder', id: 'notes', path: '/home/me/notes' }] } },
      {
        title: 'a site by its sitemap and a git repository, smaller chunks',
        input: {
          collection: 'blog',
          sources: [
            { type: 'web', id: 'blog', sitemaps: ['https://example.com/sitemap.xml'], maxPages: 200 },
            { type: 'git', id: 'docs-repo', url: 'https://github.com/you/your-repo' },
          ],
          chunking: { chunkTokens: 96, overlapTokens: 16, parentTokens: 384 },
        },
      },
    ],
  },
  {
    type: 'sync',
    summary: 'Change data capture (pull): crawl and clean every source, diff against the state of the last sync, embed only what changed, delete what disappeared (with a deletion guard), then commit the new state.',
    startedBy: '`twinflow sync`, the nightly Schedule (`twinflow schedule apply`)',
    tags: 'TwinflowPipeline=sync, TwinflowCollection, TwinflowSource, TwinflowSourceType; TwinflowStatus=deletions_held when the guard held deletions',
    result: 'documents inserted / updated / unchanged / deleted, chunks embedded / reused / written / deleted, failed sources, status, state and report URIs',
    schema: syncInputSchema,
    examples: [{ title: 'keep "notes" equal to a folder', input: { collection: 'notes', sources: [{ type: 'folder', id: 'notes', path: '/home/me/notes' }] } }],
  },
  {
    type: 'syncOnEvents',
    summary: 'Change data capture (push): one long-lived run per collection that collects changed S3 keys from `objectsChanged` signals, waits for a burst to end and runs `sync` for just those keys.',
    startedBy: '`twinflow webhook serve` (signal-with-start on bucket notifications); rarely by hand',
    tags: 'TwinflowPipeline=syncOnEvents, TwinflowCollection, TwinflowSource, TwinflowSourceType',
    result: 'syncs run, events seen, the last sync\'s counts or error',
    schema: syncOnEventsInputSchema,
    examples: [{ title: 'an S3 inbox prefix', input: { sync: { collection: 'inbox', sources: [{ type: 's3', id: 'inbox', prefix: 'inbox/' }] }, quietMs: 2000 } }],
  },
  {
    type: 'train',
    summary: 'The training pipeline: build (or load) the instruction dataset, fine-tune with LoRA/QLoRA on the GPU queue, generate on the test split while baselines answer, score (ROUGE-Lsum, ratings RMSE), write the report, publish to the Hub if the gate passes.',
    startedBy: '`twinflow train --config file.json` (which also uploads local dataset files), `TwinflowClient.train`',
    tags: 'TwinflowPipeline=train, TwinflowModel (base model), TwinflowDataset; TwinflowStatus=awaiting_review while it waits for a decision (then review_approved, review_rejected or review_timed_out_*)',
    result: 'dataset ref, fine-tune (adapter URI, loss, tokens, steps; per variant with `variants`), evaluations of the model(s) and each baseline, report URIs (with the review page), the review decision, publish decision. With `review`, send the `review` Update from the run\'s page in the UI: `{"decision": "approve", "reason": "…", "by": "your name"}`',
    schema: trainInputSchema,
    examples: [
      {
        title: 'a tiny LoRA on CPU from a JSON Lines file already in S3, published as a dry run',
        input: {
          name: 'company-reviewer-tiny',
          dataset: {
            name: 'company-reviews',
            source: {
              kind: 'records',
              uri: 's3://twinflow/datasets/companies.jsonl',
              idField: 'id',
              template: { system: 'You review companies as an employee would.', user: 'Review {{name}}: {{description}}', response: '{{review}}' },
            },
            split: { validation: 0, test: 0.1, seed: 42 },
          },
          model: { baseModel: 'HuggingFaceTB/SmolLM2-135M-Instruct', name: 'smollm-reviewer' },
          training: { maxSteps: 20, device: 'cpu' },
          generation: { maxNewTokens: 32, device: 'cpu' },
          publish: { repo: 'you/smollm-reviewer', dryRun: true, gate: { minRougeLsum: 0 } },
        },
      },
      { title: 'a dataset built earlier, by its manifest', input: { name: 'reviewer-v2', dataset: { manifestUri: 's3://twinflow/datasets/company-reviews/v1/manifest.json' }, model: { baseModel: 'meta-llama/Llama-3.1-8B-Instruct', name: 'llama-3.1-8b-4K' } } },
      {
        title: '4K vs 8K in one run (baselines once, one table), published after a person approves',
        input: {
          name: 'reviewer-4k-vs-8k',
          dataset: { manifestUri: 's3://twinflow/datasets/company-reviews/v1/manifest.json' },
          model: { baseModel: 'meta-llama/Llama-3.1-8B-Instruct', name: 'llama-3.1-8b' },
          variants: [
            { name: 'llama-3.1-8b-4K', overrides: { training: { maxSeqLength: 4096 } } },
            { name: 'llama-3.1-8b-8K', overrides: { training: { maxSeqLength: 8192 } } },
          ],
          evaluation: { baselines: [{ model: 'gpt-4o-mini', name: 'gpt4o-mini' }, { model: 'gpt-4o-mini', name: 'gpt4o-mini-fewshot', shots: 3 }] },
          review: { timeout: '3 days', onTimeout: 'reject' },
          publish: { repo: 'you/llama-reviewer', variant: 'llama-3.1-8b-8K', gate: { beatBaseline: 'gpt4o-mini-fewshot' } },
        },
      },
    ],
  },
  {
    type: 'evaluateModel',
    summary: 'Evaluate existing models on a dataset version without training: LoRA adapters (S3 prefix or a folder on the GPU worker), merged weights and the base model generate on the GPU queue; OpenAI-compatible endpoints answer from the CPU queue (answers cached in S3 by endpoint, model, prompt and example, so they are paid once); one report with the table, chart and review page.',
    startedBy: '`twinflow eval model`, `TwinflowClient.startModelEval`',
    tags: 'TwinflowPipeline=evalModel, TwinflowModel (the first local model)',
    result: 'dataset ref, one evaluation per model and endpoint (ROUGE-Lsum, RMSE, MAE, format compliance, cost, cached answers), report URIs (report.md, report.json, chart.svg, review.html)',
    schema: evaluateModelInputSchema,
    examples: [
      {
        title: "two train runs' adapters against gpt-4o-mini on the same dataset version",
        input: {
          name: 'adapters-vs-gpt',
          dataset: { manifestUri: 's3://twinflow/datasets/company-reviews/v1/manifest.json' },
          models: [
            { name: 'run-a', baseModel: 'meta-llama/Llama-3.1-8B-Instruct', adapter: 's3://twinflow/runs/train-a-1/RUN/model/adapter/' },
            { name: 'base', baseModel: 'meta-llama/Llama-3.1-8B-Instruct' },
          ],
          endpoints: [{ model: 'gpt-4o-mini', name: 'gpt4o-mini' }],
        },
      },
    ],
  },
  {
    type: 'evalRetrieval',
    summary: 'Retrieval evaluation of a labelled query set too big for one process: batches as activities, merged into one report (recall@k, MRR, nDCG@10 per technique).',
    startedBy: '`twinflow eval retrieval --workflow`',
    tags: 'TwinflowPipeline=eval; TwinflowCollection when exactly one collection is evaluated',
    result: 'the report\'s summary per configuration, batches, warnings, report URIs',
    schema: retrievalEvalInputSchema,
    examples: [{ title: 'one collection, two techniques', input: { queries: 's3://twinflow/eval/queries.jsonl', collections: ['notes'], configs: ['vector', 'hybrid'] } }],
  },
  {
    type: 'stackCheck',
    summary: 'Checks a deployment end to end: workflow → worker → activity → S3 write → S3 read.',
    startedBy: 'the Web UI, `temporal workflow start` (the first thing to run on a new cluster)',
    tags: 'TwinflowPipeline=stackCheck',
    result: '`roundTripOk` and the probe object\'s URI',
    schema: stackCheckInputSchema,
    examples: [{ title: 'a probe', input: { message: 'hello from the web ui' } }],
  },
  {
    type: 'ingestSource',
    summary: 'Child workflow of `ingest` and `sync`: crawls one source into raw parts and cleans each part. Not started by hand (its parent passes the run key and part settings).',
    startedBy: '`ingest` and `sync` only',
    tags: 'TwinflowSource, TwinflowSourceType',
    result: 'the source\'s counts and part URIs, read by the parent',
    examples: [],
  },
];

const json = (v: unknown) => JSON.stringify(v, null, 2);

export function inputJsonSchema(schema: z.ZodType): unknown {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });
}

export function renderWorkflowsDoc(): string {
  const out: string[] = [];
  out.push(
    '<!-- Generated by scripts/gen-workflows-doc.ts from lib/schemas/*.ts: do not edit; run `npm run docs:workflows`. -->',
    '# Workflow types',
    '',
    'Every twinflow pipeline is a Temporal workflow that takes **one JSON object**, so it can be started by type name from',
    'anywhere: the Temporal Web UI, `temporal workflow start`, a Schedule, the CLI, `client/` (`TwinflowClient`), or a',
    'service in any language with a Temporal SDK ([examples/services/](../examples/services/): Python and Go). The',
    'workflow validates its input with the same zod schema as below; a bad input fails the run at once, without retries,',
    'with a message naming the field.',
    '',
    '## Starting one from the Web UI',
    '',
    'Open <http://127.0.0.1:8233> (`twinflow stack up`; a cluster\'s own UI elsewhere) → **Workflows** → **Start Workflow**',
    '(`/namespaces/default/workflows/start-workflow`) and fill in:',
    '',
    '| field | value |',
    '|---|---|',
    '| Workflow ID | anything unique, e.g. `ingest-notes-2024-06-01` (a running run with the same id refuses the start) |',
    '| Task Queue | `twinflow` (the CPU workers\' `TWINFLOW_TASK_QUEUE`); the form says whether a worker polls it |',
    '| Workflow Type | one of the types below, e.g. `ingest` |',
    '| Input | one of the JSON examples below (encoding `json/plain`) |',
    '',
    'Then **Start Workflow**; the toast links to the run, whose page shows the input, the activities with their',
    'summaries (e.g. `crawl folder source "notes": /home/me/notes`), the current details line and, once done, the',
    'result. The same from a shell:',
    '',
    '```sh',
    `temporal workflow start --task-queue twinflow --type ingest --workflow-id ingest-notes --input '${JSON.stringify(WORKFLOWS[0]!.examples[0]!.input)}'`,
    '```',
    '',
    '## Finding runs',
    '',
    'Each run tags itself with search attributes (registered by `twinflow stack up`; on another server the CPU worker',
    'registers the missing ones at start where it may, or runs without them and says so once: see',
    '[operations.md](operations.md#runs-are-not-tagged-search-attributes)) and carries a memo with its input\'s summary.',
    'Filter the Web UI\'s workflow list (or `temporal workflow list --query`) with e.g.',
    '`TwinflowCollection = "notes"`, `TwinflowSource = "blog"`, `TwinflowPipeline = "train" AND TwinflowModel = "meta-llama/Llama-3.1-8B-Instruct"`.',
    '',
    '| search attribute | type |',
    '|---|---|',
    ...Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => `| \`${name}\` | ${type} |`),
    '',
    '| workflow type | what it does | sets |',
    '|---|---|---|',
    ...WORKFLOWS.map((w) => `| [\`${w.type}\`](#${w.type.toLowerCase()}) | ${w.summary} | ${w.tags} |`),
    '',
  );
  for (const w of WORKFLOWS) {
    out.push(`## ${w.type}`, '', w.summary, '', `- Started by: ${w.startedBy}, or the Web UI.`, `- Search attributes: ${w.tags}.`, `- Result: ${w.result}.`, '');
    for (const e of w.examples) out.push(`Input: ${e.title}:`, '', '```json', json(e.input), '```', '');
    if (w.schema) {
      out.push('<details><summary>Input JSON Schema</summary>', '', '```json', json(inputJsonSchema(w.schema)), '```', '', '</details>', '');
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = renderWorkflowsDoc();
  const current = fs.existsSync(DOC_PATH) ? fs.readFileSync(DOC_PATH, 'utf8') : '';
  if (process.argv.includes('--check')) {
    if (current !== text) {
      console.error(`${path.relative(process.cwd(), DOC_PATH)} is stale: run \`npm run docs:workflows\``);
      process.exit(1);
    }
    console.log(`${path.relative(process.cwd(), DOC_PATH)} is up to date`);
  } else {
    fs.writeFileSync(DOC_PATH, text);
    console.log(`wrote ${path.relative(process.cwd(), DOC_PATH)}`);
  }
}
