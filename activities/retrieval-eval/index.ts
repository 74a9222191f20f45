/**
 * Activities of the `evalRetrieval` workflow: split a labelled query set into batches (resolving page labels to the
 * collection's docIds once), evaluate each batch with the worker's retrieval stack, merge the batches into one report.
 * Batches and results are S3 objects (claim checks), so a retried activity redoes one batch and nothing else.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { ArtifactNotFoundError } from '../../lib/artifacts';
import type { RetrievalEvalResult } from '../../lib/schemas/retrieval-eval';
import type { Deps } from '../deps';

export interface PrepareRetrievalEvalInput {
  queries: string;
  collections?: string[];
  configs?: string[];
  batchSize: number;
  outPrefix: string;
}

export interface PreparedRetrievalEval {
  collections: string[];
  queries: number;
  batchUris: string[];
  warnings: string[];
}

export interface RetrievalEvalBatchInput {
  batchUri: string;
  index: number;
  collections: string[];
  configs?: string[];
  depth: number;
  expansion: number;
  outPrefix: string;
}

export interface FinishRetrievalEvalInput {
  resultUris: string[];
  warnings: string[];
  outPrefix: string;
}

interface StoredQuery {
  id: string;
  query: string;
  kind?: string;
  relevant: string[];
}

const batchName = (i: number) => String(i).padStart(5, '0');

export function createRetrievalEvalActivities(deps: Deps) {
  const { config, artifacts } = deps;

  async function chosenConfigs(names: string[] | undefined, expansion = 3) {
    const { standardConfigs } = await import('../../rag/eval/retrieval');
    const all = standardConfigs(expansion);
    const unknown = names?.filter((n) => !all.some((c) => c.name === n)) ?? [];
    if (unknown.length) {
      throw ApplicationFailure.nonRetryable(`configs: unknown ${unknown.map((u) => JSON.stringify(u)).join(', ')}; known: ${all.map((c) => c.name).join(', ')}`, 'InvalidInput');
    }
    return names ? all.filter((c) => names.includes(c.name)) : all;
  }

  return {
    async prepareRetrievalEval(input: PrepareRetrievalEvalInput): Promise<PreparedRetrievalEval> {
      await chosenConfigs(input.configs);
      const { parseQuerySet, resolveRelevance } = await import('../../rag/eval/queries');
      const { buildCatalog, mergeCatalogs } = await import('../../rag/catalog');
      let text: string;
      try {
        text = await artifacts.getText(input.queries);
      } catch (err) {
        if (err instanceof ArtifactNotFoundError) throw ApplicationFailure.nonRetryable(`queries: ${err.message}`, 'InvalidInput');
        throw err;
      }
      let parsed;
      try {
        parsed = parseQuerySet(text, input.queries);
      } catch (err) {
        // A malformed query set fails the same way on every attempt: not worth a retry.
        throw ApplicationFailure.nonRetryable((err as Error).message, 'InvalidInput');
      }
      const store = await deps.vectorStore();
      const collections = input.collections ?? config.rag.collections;
      const catalog = mergeCatalogs(await Promise.all(collections.map((c) => buildCatalog(store, c))));
      const { queries, warnings } = resolveRelevance(parsed, catalog);
      if (queries.length === 0) {
        throw ApplicationFailure.nonRetryable(`queries: none of the ${parsed.length} queries has a relevant document in ${collections.join(', ')} (${warnings.slice(0, 3).join('; ')})`, 'InvalidInput');
      }
      const batchUris: string[] = [];
      for (let i = 0; i * input.batchSize < queries.length; i++) {
        const batch: StoredQuery[] = queries.slice(i * input.batchSize, (i + 1) * input.batchSize).map((q) => ({ id: q.id, query: q.query, ...(q.kind && { kind: q.kind }), relevant: [...q.relevant] }));
        batchUris.push((await artifacts.putJson(`${input.outPrefix}/batches/${batchName(i)}.json`, batch)).uri);
      }
      return { collections, queries: queries.length, batchUris, warnings };
    },

    async evalRetrievalBatch(input: RetrievalEvalBatchInput): Promise<string> {
      const configs = await chosenConfigs(input.configs, input.expansion);
      const { evaluateRetrieval } = await import('../../rag/eval/retrieval');
      const { createRagFromConfig } = await import('../../rag/from-config');
      const stored = JSON.parse(await artifacts.getText(input.batchUri)) as StoredQuery[];
      // The same retrieval stack as `twinflow eval retrieval` (LLM, re-ranker, routes from the worker's configuration),
      // on the worker's own store and embedder.
      const { rag, close } = await createRagFromConfig(config, { store: await deps.vectorStore(), embedder: await deps.cachedEmbedder(), collections: input.collections });
      try {
        const ctx = Context.current();
        const report = await evaluateRetrieval(
          rag,
          stored.map((q) => ({ ...q, relevant: new Set(q.relevant) })),
          { collections: input.collections, configs, depth: input.depth, onQuery: () => ctx.heartbeat() },
        );
        return (await artifacts.putJson(`${input.outPrefix}/results/${batchName(input.index)}.json`, report)).uri;
      } finally {
        await close();
      }
    },

    async finishRetrievalEval(input: FinishRetrievalEvalInput): Promise<Omit<RetrievalEvalResult, 'batches'>> {
      const { mergeReports, reportMarkdown } = await import('../../rag/eval/retrieval');
      const parts = [];
      for (const uri of input.resultUris) parts.push(JSON.parse(await artifacts.getText(uri)));
      const report = mergeReports(parts, input.warnings);
      const json = await artifacts.putJson(`${input.outPrefix}/retrieval-eval.json`, report);
      const md = await artifacts.putBytes(`${input.outPrefix}/retrieval-eval.md`, reportMarkdown(report), 'text/markdown; charset=utf-8');
      return {
        queries: report.queries,
        markdownUri: md.uri,
        jsonUri: json.uri,
        configs: report.configs.map((c) => ({
          name: c.name,
          ...(c.skipped ? { skipped: c.skipped } : { mrr: c.mean!.mrr, ndcg10: c.mean!.ndcg10, recall10: c.mean!.recall[10] }),
        })),
        warnings: report.warnings,
      };
    },
  };
}

export type RetrievalEvalActivities = ReturnType<typeof createRetrievalEvalActivities>;
