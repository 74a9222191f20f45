/** CPU activities of evaluation: score predictions, run baselines, write the report. */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/activity';
import { chatClientForEndpoint, LlmError } from '../../lib/llm';
import { type Baseline, baselineName, type DatasetRef, type Example, type ModelEvaluation, type OutputFormat, type ReportRef } from '../../lib/schemas/train';
import { networkPolicyFor } from '../../lib/security/network';
import type { Deps } from '../deps';
import { runPrefixOf } from '../gpu/shared';
import { type FloorBaseline, floorPredictions, pickShots, runBaselinePredictions } from './baseline';
import { cachedChat } from './cache';
import { renderChart } from './chart';
import { reportMarkdown, reportTable } from './report';
import { renderReviewPage } from './review';
import { type ExampleResult, type Prediction, scorePredictions } from './score';

export interface EvaluateInput {
  modelName: string;
  kind: ModelEvaluation['kind'];
  testUri: string;
  predictionsUri: string;
  format: OutputFormat;
  useStemmer: boolean;
  maxExamples?: number;
  usage?: ModelEvaluation['usage'];
}

export interface BaselineInput {
  baseline: Baseline;
  testUri: string;
  trainUri: string;
  format: OutputFormat;
  seed: number;
  useStemmer: boolean;
  maxExamples?: number;
  /** Read answers from (and write them to) the S3 answer cache; default true. */
  cache?: boolean;
}

export interface FloorBaselinesInput {
  floors: FloorBaseline[];
  testUri: string;
  trainUri: string;
  format: OutputFormat;
  useStemmer: boolean;
  maxExamples?: number;
}

export interface ReportInput {
  name: string;
  dataset: Pick<DatasetRef, 'name' | 'version' | 'testUri' | 'counts'>;
  evaluations: ModelEvaluation[];
  useStemmer: boolean;
  /** Loss curves (SVG) written by the trainer, by report row: copied next to the report and shown in it. */
  lossCurves?: Array<{ model: string; stage: 'sft' | 'dpo'; uri: string }>;
}

export function createEvaluateActivities({ config, artifacts }: Deps) {
  async function evaluate(input: EvaluateInput): Promise<ModelEvaluation> {
    const ctx = Context.current();
    const prefix = `${runPrefixOf(ctx.info)}/eval/${input.modelName}`;
    let examples = await artifacts.readAllJsonl<Example>(input.testUri);
    if (input.maxExamples) examples = examples.slice(0, input.maxExamples);
    const predictions = await artifacts.readAllJsonl<Prediction>(input.predictionsUri);
    const { results, summary } = scorePredictions(examples, predictions, input.format, { useStemmer: input.useStemmer });
    const resultsRef = await artifacts.putJsonl(`${prefix}/results.jsonl`, results);
    await artifacts.putJson(`${prefix}/summary.json`, { model: input.modelName, ...summary });
    return {
      model: input.modelName,
      kind: input.kind,
      count: summary.count,
      rougeLsum: summary.rougeLsum,
      ratingsRmse: summary.ratingsRmse,
      ratingsMae: summary.ratingsMae,
      parsedRmse: summary.parsedRmse,
      parsedMae: summary.parsedMae,
      coverage: summary.coverage,
      perKeyCoverage: summary.perKeyCoverage,
      unparsed: summary.unparsed,
      formatCompliance: summary.formatCompliance,
      ratedCount: summary.ratedCount,
      perKeyRmse: summary.perKeyRmse,
      predictionsUri: input.predictionsUri,
      resultsUri: resultsRef.uri,
      ...(input.usage && { usage: input.usage }),
    };
  }

  return {
    /** Scores one model's predictions on the test split; per-example results go to S3. */
    evaluatePredictions: evaluate,

    /** Runs one baseline model on the test split through its OpenAI-compatible API, then scores it. */
    async runBaseline(input: BaselineInput): Promise<ModelEvaluation> {
      const ctx = Context.current();
      const name = baselineName(input.baseline);
      const b = input.baseline;
      let client;
      try {
        client = chatClientForEndpoint(config.llm, b, process.env, networkPolicyFor(config.network.allow));
        await client.checkNetwork();
      } catch (err) {
        throw ApplicationFailure.nonRetryable(`evaluation.baselines (${name}): ${(err as Error).message}`, 'BaselineConfig');
      }
      let tests = await artifacts.readAllJsonl<Example>(input.testUri);
      if (input.maxExamples) tests = tests.slice(0, input.maxExamples);
      const shots = b.shots > 0 ? pickShots(await artifacts.readAllJsonl<Example>(input.trainUri), b.shots, input.seed) : [];
      ctx.heartbeat({ done: 0, total: tests.length });
      // Paid once: an answer to the same (endpoint, model, prompt, example) is read back from S3.
      const cache = input.cache === false ? undefined : cachedChat(client, artifacts);
      const { predictions, failed } = await runBaselinePredictions(client, tests, shots, input.format, {
        temperature: b.temperature,
        maxTokens: b.maxTokens,
        signal: ctx.cancellationSignal,
        onProgress: (done) => ctx.heartbeat({ done, total: tests.length }),
        ...(cache && { ask: (id, messages, opts) => cache.chat(id, messages, opts) }),
      });
      if (tests.length > 0 && failed === tests.length) {
        const first = predictions[0]?.error ?? 'unknown error';
        throw new LlmError(`baseline ${name}: every request failed (${first})`, true);
      }
      const ref = await artifacts.putJsonl(`${runPrefixOf(ctx.info)}/predictions/${name}.jsonl`, predictions);
      const t = client.tally.snapshot();
      return evaluate({
        modelName: name,
        kind: 'baseline',
        testUri: input.testUri,
        predictionsUri: ref.uri,
        format: input.format,
        useStemmer: input.useStemmer,
        maxExamples: input.maxExamples,
        usage: { requests: t.requests, promptTokens: t.promptTokens, completionTokens: t.completionTokens, costUsd: t.costUsd, cachedResponses: cache?.hits ?? 0 },
      });
    },

    /**
     * The no-LLM floor baselines (train-mean, nearest-train: baseline.ts) on the test split, scored by the same rules
     * as every model. Needs no network, so every report has rows to beat even offline.
     */
    async runFloorBaselines(input: FloorBaselinesInput): Promise<ModelEvaluation[]> {
      const ctx = Context.current();
      let tests = await artifacts.readAllJsonl<Example>(input.testUri);
      if (input.maxExamples) tests = tests.slice(0, input.maxExamples);
      const train = await artifacts.readAllJsonl<Example>(input.trainUri);
      const out: ModelEvaluation[] = [];
      for (const kind of input.floors) {
        const ref = await artifacts.putJsonl(`${runPrefixOf(ctx.info)}/predictions/${kind}.jsonl`, floorPredictions(kind, train, tests, input.format));
        const e = await evaluate({ modelName: kind, kind: 'baseline', testUri: input.testUri, predictionsUri: ref.uri, format: input.format, useStemmer: input.useStemmer, maxExamples: input.maxExamples });
        // The mean baseline writes no text: a ROUGE of 0 would be a number about nothing.
        out.push(kind === 'train-mean' ? { ...e, rougeLsum: null } : e);
      }
      return out;
    },

    /** Writes report.md, report.json and chart.svg; returns their URIs and the table. */
    async writeReport(input: ReportInput): Promise<ReportRef> {
      const ctx = Context.current();
      const wf = ctx.info.workflowExecution;
      const prefix = `${runPrefixOf(ctx.info)}/report`;
      const svg = renderChart(
        input.evaluations.map((e) => ({ model: e.model, rougeLsum: e.rougeLsum, ratingsRmse: e.ratingsRmse, fineTuned: e.kind === 'fine-tuned' })),
        `${input.name}: ${input.dataset.name} test split (${input.dataset.counts.test} examples)`,
      );
      const chart = await artifacts.putBytes(`${prefix}/chart.svg`, svg, 'image/svg+xml');
      const lossCurves: Array<{ model: string; stage: string; file: string }> = [];
      for (const c of input.lossCurves ?? []) {
        const file = `loss-${c.model.replace(/[^A-Za-z0-9._-]/g, '-')}-${c.stage}.svg`;
        await artifacts.putBytes(`${prefix}/${file}`, await artifacts.getBytes(c.uri), 'image/svg+xml');
        lossCurves.push({ model: c.model, stage: c.stage, file });
      }
      const markdown = reportMarkdown(input.evaluations, { ...input, lossCurves, workflowId: wf?.workflowId, runId: wf?.runId, chartFile: 'chart.svg' });
      const report = await artifacts.putBytes(`${prefix}/report.md`, markdown, 'text/markdown; charset=utf-8');
      const json = await artifacts.putJson(`${prefix}/report.json`, {
        name: input.name,
        dataset: input.dataset,
        useStemmer: input.useStemmer,
        workflowId: wf?.workflowId,
        runId: wf?.runId,
        table: reportTable(input.evaluations),
        evaluations: input.evaluations,
      });
      // The review page: every example's input, reference and each model's output with its scores.
      const examples = await artifacts.readAllJsonl<Example>(input.dataset.testUri);
      const models = await Promise.all(input.evaluations.map(async (e) => ({ evaluation: e, results: await artifacts.readAllJsonl<ExampleResult>(e.resultsUri) })));
      const html = renderReviewPage({ title: `${input.name}: ${input.dataset.name}@${input.dataset.version} test split`, examples, models, workflowId: wf?.workflowId });
      const review = await artifacts.putBytes(`${prefix}/review.html`, html, 'text/html; charset=utf-8');
      return { markdown: reportTable(input.evaluations), reportUri: report.uri, jsonUri: json.uri, chartUri: chart.uri, reviewUri: review.uri };
    },
  };
}

export type EvaluateActivities = ReturnType<typeof createEvaluateActivities>;
