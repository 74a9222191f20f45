/**
 * `twinflow eval retrieval --queries eval/fixture-queries.jsonl`: recall@k, MRR and nDCG@10 of several retrieval
 * configurations side by side (and prompt compression's token saving), as Markdown and JSON.
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
import type { RetrievalEvalProgress, RetrievalEvalResult } from '../../lib/schemas/eval';
import { followRun, printJson } from '../follow';
import { addRunOutputOptions } from './ingest';

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

const collect = (value: string, previous: string[]) => [...previous, value];

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

export function registerEvalCommands(program: Command): void {
  const evalCmd = program.command('eval').description('evaluate retrieval quality on a labelled query set');
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
