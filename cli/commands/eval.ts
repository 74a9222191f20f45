/**
 * `twinflow eval retrieval --queries eval/fixture-queries.jsonl`: recall@k, MRR and nDCG@10 of several retrieval
 * configurations side by side (and prompt compression's token saving), as Markdown and JSON.
 *
 * `twinflow eval model --dataset s3://…/manifest.json --adapter s3://…/model/adapter/ --endpoint gpt-4o-mini`: the
 * `evaluateModel` workflow — existing models (adapters, merged weights, the base model, OpenAI-compatible endpoints)
 * scored on a dataset version without training, in one comparison report (table, chart, review page).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { TwinflowClient } from '../../client';
import { ArtifactStore } from '../../lib/artifacts';
import { type Config, loadConfig } from '../../lib/config';
import { InputValidationError } from '../../lib/schemas/validate';
import { buildCatalog, mergeCatalogs } from '../../rag/catalog';
import { evaluateRetrieval, reportMarkdown, standardConfigs } from '../../rag/eval/retrieval';
import { loadQuerySet, resolveRelevance } from '../../rag/eval/queries';
import type { RetrievalEvalProgress, RetrievalEvalResult } from '../../lib/schemas/retrieval-eval';
import { type EvaluateModelInput, evaluateModelInputSchema, type EvaluateModelProgress, type EvaluateModelResult } from '../../lib/schemas/model-eval';
import { parseInput } from '../../lib/schemas/validate';
import { followRun, printJson } from '../follow';
import { localPathsOfModelEval, withLocalWorkers } from '../shared/local-workers';
import { collect } from '../shared/options';
import { addRunOutputOptions } from '../shared/run-output-options';

interface EvalFlags {
  queries: string;
  collection: string[];
  out: string;
  configs?: string;
  depth: string;
  compression?: string;
  expansion: string;
  workflow: boolean;
  batchSize: string;
  concurrency: string;
  waitForWorker?: boolean;
  json?: boolean;
}

function positive(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InputValidationError(`${flag}: expected a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** Uploads the query set (content-addressed), runs `evalRetrieval`, and copies its report into --out. */
async function runAsWorkflow(config: Config, flags: EvalFlags, configs: string[] | undefined): Promise<number> {
  if (flags.compression !== undefined) throw new InputValidationError('--compression: not available with --workflow (run without --workflow to evaluate prompt compression)');
  const input = {
    ...(flags.collection.length && { collections: flags.collection }),
    ...(configs && { configs }),
    depth: positive('--depth', flags.depth),
    expansion: positive('--expansion', flags.expansion),
    batchSize: positive('--batch-size', flags.batchSize),
    concurrency: positive('--concurrency', flags.concurrency),
  };
  const artifacts = ArtifactStore.fromConfig(config);
  await artifacts.ensureBucket();
  const uploaded = await artifacts.putContentAddressed('eval/retrieval/queries', fs.readFileSync(flags.queries), 'application/x-ndjson');
  const client = await TwinflowClient.connect(config);
  try {
    const handle = await client.startRetrievalEval({ queries: uploaded.uri, ...input });
    // The report, copied into --out once (for the text and the JSON form alike).
    let copied: Promise<{ md: string; report: unknown }> | undefined;
    const copy = (result: RetrievalEvalResult) =>
      (copied ??= (async () => {
        fs.mkdirSync(flags.out, { recursive: true });
        const md = await artifacts.getText(result.markdownUri);
        const json = await artifacts.getText(result.jsonUri);
        fs.writeFileSync(path.join(flags.out, 'retrieval-eval.md'), md);
        fs.writeFileSync(path.join(flags.out, 'retrieval-eval.json'), json);
        console.error(`report: ${result.markdownUri} (and .json), copied to ${path.join(flags.out, 'retrieval-eval.md')}`);
        return { md, report: JSON.parse(json) as unknown };
      })());
    return await followRun<RetrievalEvalResult>({
      client,
      workflowType: 'evalRetrieval',
      handle,
      flags,
      infoStream: process.stderr, // stdout is the report
      needs: client.workerNeeds('evalRetrieval', handle.taskQueue),
      progress: async () => {
        const p = (await client.progress('evalRetrieval', handle.workflowId)) as RetrievalEvalProgress;
        return { line: `batches ${p.done}/${p.batches}`, value: p.done, total: p.batches };
      },
      format: async (result) => (await copy(result)).md,
      json: async (result) => ({ ...result, report: (await copy(result)).report, out: outFiles(flags.out) }),
    });
  } finally {
    await client.close();
  }
}

const outFiles = (out: string) => ({ markdown: path.join(out, 'retrieval-eval.md'), json: path.join(out, 'retrieval-eval.json') });

interface ModelEvalFlags {
  config?: string;
  dataset?: string;
  name: string;
  baseModel?: string;
  adapter?: string;
  modelName?: string;
  merged: boolean;
  endpoint: string[];
  endpointUrl?: string;
  apiKeyEnv?: string;
  shots: string;
  maxExamples?: string;
  out?: string;
  workflowId?: string;
  wait: boolean;
  withWorkers: boolean;
  waitForWorker?: boolean;
  json?: boolean;
}

/** The evaluateModel input: the --config file, else one built from the flags. */
export function modelEvalInput(flags: ModelEvalFlags): EvaluateModelInput {
  if (flags.config) {
    try {
      return JSON.parse(fs.readFileSync(flags.config, 'utf8')) as EvaluateModelInput;
    } catch (err) {
      throw new InputValidationError(`--config ${flags.config}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  }
  if (!flags.dataset) throw new InputValidationError('eval model: give --dataset <s3://…/manifest.json> (or --config <file>)');
  if (flags.adapter && !flags.baseModel) throw new InputValidationError('--adapter: also give --base-model (the model the adapter was trained on)');
  const models = flags.baseModel
    ? [
        {
          name: flags.modelName ?? (flags.adapter ? 'adapter' : flags.merged ? 'merged' : 'base'),
          baseModel: flags.baseModel,
          ...(flags.adapter && { adapter: flags.adapter }),
          ...(flags.merged && { kind: 'merged' as const }),
        },
      ]
    : [];
  const shots = Number(flags.shots);
  const endpoints = flags.endpoint.map((model) => ({
    model,
    ...(flags.endpointUrl && { baseUrl: flags.endpointUrl }),
    ...(flags.apiKeyEnv && { apiKeyEnv: flags.apiKeyEnv }),
    ...(shots > 0 && { shots }),
  }));
  return {
    name: flags.name,
    dataset: { manifestUri: flags.dataset },
    models,
    endpoints,
    ...(flags.maxExamples && { evaluation: { maxExamples: Number(flags.maxExamples) } }),
  };
}

export function formatModelEvalResult(r: EvaluateModelResult): string {
  return [
    '',
    r.report.markdown,
    '',
    `dataset   ${r.dataset.name}@${r.dataset.version}  ${r.dataset.manifestUri} (${r.dataset.counts.test} test examples)`,
    `report    ${r.report.reportUri}`,
    `chart     ${r.report.chartUri}`,
    ...(r.report.reviewUri ? [`review    ${r.report.reviewUri}`] : []),
  ].join('\n');
}

/** Copies report.md, chart.svg and review.html of a finished evaluation into `out`. */
async function copyModelReport(config: Config, r: EvaluateModelResult, out: string): Promise<Record<string, string>> {
  const artifacts = ArtifactStore.fromConfig(config);
  fs.mkdirSync(out, { recursive: true });
  const files: Record<string, string> = {};
  for (const [name, uri] of [['report.md', r.report.reportUri], ['chart.svg', r.report.chartUri], ['review.html', r.report.reviewUri]] as const) {
    if (!uri) continue;
    const file = path.join(out, name);
    fs.writeFileSync(file, await artifacts.getBytes(uri));
    files[name] = file;
  }
  return files;
}

function registerModelEvalCommand(evalCmd: Command): void {
  const model = evalCmd
    .command('model')
    .description('evaluate existing models (an adapter, merged weights, the base model, OpenAI-compatible endpoints) on a dataset version, without training: one comparison report')
    .option('-c, --config <file>', 'JSON file with the evaluateModel input (see docs/training.md); the flags below build a simple one')
    .option('-d, --dataset <manifestUri>', 'the dataset version: s3://…/datasets/<name>/<version>/manifest.json')
    .option('-n, --name <name>', 'the comparison name (report title)', 'eval')
    .option('--base-model <model>', 'base model (Hub id, folder on the GPU worker, s3:// prefix); alone: the base model is evaluated')
    .option('--adapter <uri>', 'a LoRA adapter on that base: s3:// prefix (a train run\'s …/model/adapter/) or a folder on the GPU worker')
    .option('--merged', 'the --base-model is merged fine-tuned weights (a fine-tuned row)', false)
    .option('--model-name <name>', 'row name of that model (default adapter / merged / base)')
    .option('--endpoint <model>', 'an OpenAI-compatible model to evaluate too (repeatable; LLM_BASE_URL or --endpoint-url)', collect, [])
    .option('--endpoint-url <url>', 'base URL of the endpoints (default the worker\'s LLM_BASE_URL)')
    .option('--api-key-env <name>', 'worker environment variable with the key for --endpoint-url')
    .option('--shots <n>', 'worked examples from train before each endpoint prompt', '0')
    .option('--max-examples <n>', 'only the first N test examples')
    .option('-o, --out <dir>', 'also copy report.md, chart.svg and review.html here')
    .option('--workflow-id <id>', 'workflow id (default: eval-model-<name>-<timestamp>)')
    .option('--no-wait', 'start and print the workflow id without waiting')
    .option('--with-workers', 'also run a CPU and a GPU worker in this process', false);
  addRunOutputOptions(model).action(async (flags: ModelEvalFlags) => {
    const input = modelEvalInput(flags);
    const parsed = parseInput(evaluateModelInputSchema, input, 'evaluateModel'); // a bad input fails before connecting
    const config = loadConfig();
    const client = await TwinflowClient.connect(config);
    const main = async () => {
      const handle = await client.startModelEval(input, { workflowId: flags.workflowId });
      const needs = client.workerNeeds(parsed.models.length > 0 ? 'evaluateModel' : 'evalRetrieval', handle.taskQueue, parsed.gpu.taskQueue ?? config.temporal.gpuTaskQueue);
      let copied: Promise<Record<string, string>> | undefined;
      const copy = (r: EvaluateModelResult) => (flags.out ? (copied ??= copyModelReport(config, r, flags.out)) : Promise.resolve({}));
      return followRun<EvaluateModelResult>({
        client,
        workflowType: 'evaluateModel',
        handle,
        flags,
        needs: flags.withWorkers ? [] : needs,
        intervalMs: 2000,
        progress: async () => {
          const p = (await client.progress('evaluateModel', handle.workflowId)) as EvaluateModelProgress;
          return { line: [`[${p.stage}]`, ...p.evaluations.map((e) => `${e.model}: ROUGE-Lsum ${e.rougeLsum === null ? 'n/a' : e.rougeLsum.toFixed(4)}`)].join(' | ') };
        },
        format: async (r) => {
          const files = await copy(r);
          return formatModelEvalResult(r) + (Object.keys(files).length ? `\ncopied    ${Object.values(files).join(', ')}` : '');
        },
        json: async (r) => ({ ...r, out: await copy(r) }),
        exitOnInterrupt: !flags.withWorkers,
      });
    };
    try {
      // The in-process workers may read the model folders this input names (the dataset is a built version in S3).
      process.exitCode = await (flags.withWorkers ? withLocalWorkers(main, localPathsOfModelEval(parsed)) : main());
    } finally {
      await client.close();
    }
  });
}

export function registerEvalCommands(program: Command): void {
  const evalCmd = program.command('eval').description('evaluate retrieval (eval retrieval) or models on a dataset version (eval model)');
  registerModelEvalCommand(evalCmd);
  const retrieval = evalCmd
    .command('retrieval')
    .description('recall@k, MRR and nDCG@10 of retrieval configurations side by side (Markdown + JSON)')
    .requiredOption('-q, --queries <file>', 'labelled queries (JSON Lines: id, query, relevantDocIds or relevantPages)')
    .option('-c, --collection <name>', 'collection to evaluate (repeatable; default RAG_COLLECTIONS)', collect, [])
    .option('-o, --out <dir>', 'where to write retrieval-eval.md and retrieval-eval.json', 'eval-results')
    .option('--configs <names>', `comma-separated configurations (default all): ${standardConfigs().map((c) => c.name).join(', ')}`)
    .option('--depth <n>', 'chunks retrieved per query', '30')
    .option('--expansion <n>', 'reformulations in the expansion configurations', '3')
    .option('--compression <tokens>', 'also evaluate prompt compression to this budget')
    .option('--workflow', 'run as the evalRetrieval workflow on the workers (big query sets; the set is uploaded to S3)', false)
    .option('--batch-size <n>', 'with --workflow: queries per activity', '200')
    .option('--concurrency <n>', 'with --workflow: batches evaluated at once', '2');
  addRunOutputOptions(retrieval)
    .action(async (flags: EvalFlags) => {
      const config = loadConfig();
      const queries = loadQuerySet(flags.queries);
      const all = standardConfigs(Number(flags.expansion));
      const wanted = flags.configs?.split(',').map((s) => s.trim());
      const unknown = wanted?.filter((w) => !all.some((c) => c.name === w));
      if (unknown?.length) throw new InputValidationError(`--configs: unknown ${unknown.map((u) => JSON.stringify(u)).join(', ')}`);
      if (flags.workflow) {
        process.exitCode = await runAsWorkflow(config, flags, wanted);
        return;
      }
      const { createRagFromConfig } = await import('../../rag/from-config');
      const { rag, summary, close } = await createRagFromConfig(config);
      try {
        const collections = flags.collection.length ? flags.collection : rag.deps.collections!;
        console.error(summary.map((s) => `  ${s}`).join('\n'));
        const catalog = mergeCatalogs(await Promise.all(collections.map((c) => buildCatalog(rag.deps.store, c))));
        const resolved = resolveRelevance(queries, catalog);
        const report = await evaluateRetrieval(rag, resolved.queries, {
          collections,
          configs: wanted ? all.filter((c) => wanted.includes(c.name)) : all,
          depth: Number(flags.depth),
          compressionBudget: flags.compression === undefined ? undefined : Number(flags.compression),
          warnings: resolved.warnings,
          onProgress: (l) => console.error(`  ${l}`),
        });
        fs.mkdirSync(flags.out, { recursive: true });
        const md = reportMarkdown(report);
        fs.writeFileSync(path.join(flags.out, 'retrieval-eval.md'), md);
        fs.writeFileSync(path.join(flags.out, 'retrieval-eval.json'), JSON.stringify(report, null, 2));
        if (flags.json) printJson({ report, out: outFiles(flags.out) });
        else console.log(md);
        console.error(`written: ${path.join(flags.out, 'retrieval-eval.md')} and .json`);
      } finally {
        await close();
      }
    });
}
