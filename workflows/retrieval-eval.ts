/**
 * `evalRetrieval`: the retrieval evaluation of `twinflow eval retrieval` for query sets too big for one process or
 * one sitting. The set is split into batches that run as separate activities (bounded fan-out over the task
 * queue's workers, each retried on its own), and merged into one report: the same metrics as the CLI, because the
 * same code computes them (rag/eval/retrieval.ts). Report: <outPrefix>/retrieval-eval.{md,json} in S3.
 */
import { defineQuery, setHandler, workflowInfo } from '@temporalio/workflow';
import type { RetrievalEvalActivities } from '../activities/retrieval-eval';
import { type RetrievalEvalInput, retrievalEvalInputSchema, type RetrievalEvalProgress, type RetrievalEvalResult } from '../lib/schemas/retrieval-eval';
import { runBounded } from './concurrency';
import { RETRIEVAL_EVAL_ACTIVITY } from './policies';
import { validateWorkflowInput } from './validation';
import { proxySummarizedActivities, startVisibility } from './visibility';

const steps = proxySummarizedActivities<RetrievalEvalActivities>(RETRIEVAL_EVAL_ACTIVITY);

export const retrievalEvalProgressQuery = defineQuery<RetrievalEvalProgress>('progress');

export async function evalRetrieval(rawInput: RetrievalEvalInput): Promise<RetrievalEvalResult> {
  const input = validateWorkflowInput(retrievalEvalInputSchema, rawInput, 'evalRetrieval');
  const outPrefix = input.outPrefix ?? `eval/retrieval/${workflowInfo().workflowId}`;
  const collections = input.collections ?? [];
  const summary = `evaluate retrieval on ${input.queries}${collections.length > 0 ? ` over ${collections.map((c) => `"${c}"`).join(', ')}` : ''}`;
  await startVisibility({
    // TwinflowCollection is a Keyword: one value, so only a single-collection evaluation is tagged with it.
    tags: { TwinflowPipeline: ['eval'], ...(collections.length === 1 ? { TwinflowCollection: collections } : {}) },
    memo: { summary, input: { queries: input.queries, collections, configs: input.configs?.length ?? 0, batchSize: input.batchSize, outPrefix } },
    details: summary,
    legacy: { TwinflowPipeline: ['eval'] },
  });
  const progress: RetrievalEvalProgress = { batches: 0, done: 0 };
  setHandler(retrievalEvalProgressQuery, () => progress);

  const prepared = await steps.prepareRetrievalEval({ queries: input.queries, collections: input.collections, configs: input.configs, batchSize: input.batchSize, outPrefix });
  progress.batches = prepared.batchUris.length;
  const resultUris = new Array<string>(prepared.batchUris.length);
  await runBounded(prepared.batchUris, input.concurrency, async (batchUri, index) => {
    resultUris[index] = await steps.evalRetrievalBatch({
      batchUri,
      index,
      collections: prepared.collections,
      configs: input.configs,
      depth: input.depth,
      expansion: input.expansion,
      outPrefix,
    });
    progress.done++;
  });
  const result = await steps.finishRetrievalEval({ resultUris, warnings: prepared.warnings, outPrefix });
  return { ...result, batches: prepared.batchUris.length };
}
