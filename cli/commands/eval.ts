/**
 * `twinflow eval retrieval --queries eval/fixture-queries.jsonl`: recall@k, MRR and nDCG@10 of several retrieval
 * configurations side by side (and prompt compression's token saving), as Markdown and JSON.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../lib/config';
import { InputValidationError } from '../../lib/schemas/validate';
import { buildCatalog, mergeCatalogs } from '../../rag/catalog';
import { evaluateRetrieval, reportMarkdown, standardConfigs } from '../../rag/eval/retrieval';
import { loadQuerySet, resolveRelevance } from '../../rag/eval/queries';

interface EvalFlags {
  queries: string;
  collection: string[];
  out: string;
  configs?: string;
  depth: string;
  compression?: string;
  expansion: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerEvalCommands(program: Command): void {
  const evalCmd = program.command('eval').description('evaluate retrieval quality on a labelled query set');
  evalCmd
    .command('retrieval')
    .description('recall@k, MRR and nDCG@10 of retrieval configurations side by side (Markdown + JSON)')
    .requiredOption('-q, --queries <file>', 'labelled queries (JSON Lines: id, query, relevantDocIds or relevantPages)')
    .option('-c, --collection <name>', 'collection to evaluate (repeatable; default RAG_COLLECTIONS)', collect, [])
    .option('-o, --out <dir>', 'where to write retrieval-eval.md and retrieval-eval.json', 'eval-results')
    .option('--configs <names>', `comma-separated configurations (default all): ${standardConfigs().map((c) => c.name).join(', ')}`)
    .option('--depth <n>', 'chunks retrieved per query', '30')
    .option('--expansion <n>', 'reformulations in the expansion configurations', '3')
    .option('--compression <tokens>', 'also evaluate prompt compression to this budget')
    .action(async (flags: EvalFlags) => {
      const config = loadConfig();
      const queries = loadQuerySet(flags.queries);
      const all = standardConfigs(Number(flags.expansion));
      const wanted = flags.configs?.split(',').map((s) => s.trim());
      const unknown = wanted?.filter((w) => !all.some((c) => c.name === w));
      if (unknown?.length) throw new InputValidationError(`--configs: unknown ${unknown.map((u) => JSON.stringify(u)).join(', ')}`);
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
        console.log(md);
        console.error(`written: ${path.join(flags.out, 'retrieval-eval.md')} and .json`);
      } finally {
        await close();
      }
    });
}
