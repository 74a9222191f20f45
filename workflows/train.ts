/**
 * The `train` workflow: dataset build (CPU) → fine-tune (GPU queue) → generation on the test split (GPU) and
 * baselines (CPU, in parallel) → metrics (CPU) → report and review page → [human review] → publish (CPU, gated).
 * One JSON input, validated; history holds URIs, counts and small summaries only (claim check). The `progress` query
 * reports the stage, the dataset, the training step/loss/ETA (signalled by the fine-tune activity) and the
 * evaluations so far.
 *
 * With `variants` (e.g. 4K vs 8K) each variant is fine-tuned, generated and scored in turn on the same dataset, the
 * baselines run once, and one report has a row per variant. With `review` the run waits durably (a timer and a
 * condition) for the `review` Update before it publishes.
 *
 * Replay: a config without variants and review issues exactly the commands it did before these existed (one
 * fine-tune, the baselines, one generation, …), so runs in flight replay unchanged; the new commands (the review's
 * search-attribute upsert and timer) occur only for inputs the old schema refused, so they need no patched().
 */
import { msToNumber } from '@temporalio/common/lib/time';
import { ApplicationFailure, condition, defineQuery, defineSignal, defineUpdate, patched, setHandler } from '@temporalio/workflow';
import type { DatasetActivities } from '../activities/dataset';
import type { EvaluateActivities } from '../activities/model-eval';
import type { GpuActivities } from '../activities/gpu';
import type { PublishActivities } from '../activities/publish';
// The gate is a pure function of the evaluations (type-only imports, no I/O): deterministic, safe in workflow code.
// eslint-disable-next-line no-restricted-imports
import { checkGate } from '../activities/publish/gate';
import {
  baselineName,
  type DatasetRef,
  type FineTuneResult,
  generationSchema,
  type ModelEvaluation,
  REVIEW_UPDATE,
  type ReviewDecision,
  reviewDecisionSchema,
  type ReviewOutcome,
  reviewSettingsOf,
  TRAIN_PROGRESS_QUERY,
  TRAINING_PROGRESS_SIGNAL,
  type TrainInput,
  trainInputSchema,
  type TrainingProgress,
  trainingSchema,
  type TrainProgress,
  type TrainResult,
} from '../lib/schemas/train';
import { gpuActivityOptions, TRAINING_CPU_ACTIVITY } from './policies';
import { validateWorkflowInput } from './validation';
import { proxySummarizedActivities, startVisibility } from './visibility';

export const trainProgressQuery = defineQuery<TrainProgress>(TRAIN_PROGRESS_QUERY);
export const trainingProgressSignal = defineSignal<[TrainingProgress]>(TRAINING_PROGRESS_SIGNAL);
/** A person's approve/reject of a run that waits in review (CLI `train approve|reject`, the client, the Web UI). */
export const reviewUpdate = defineUpdate<ReviewOutcome, [ReviewDecision]>(REVIEW_UPDATE);

/** A variant's settings: the base settings with its overrides (one level deep, so `lora: { r: 8 }` keeps alpha). */
function withOverrides<T extends Record<string, unknown>>(base: T, over: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over ?? {})) {
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b) ? { ...b, ...v } : v;
  }
  return out;
}

const cpu = proxySummarizedActivities<DatasetActivities & EvaluateActivities & PublishActivities>(TRAINING_CPU_ACTIVITY);


export async function train(input: TrainInput): Promise<TrainResult> {
  const cfg = validateWorkflowInput(trainInputSchema, input, 'train');
  const state: TrainProgress = { stage: 'starting', evaluations: [] };
  setHandler(trainProgressQuery, () => state);
  setHandler(trainingProgressSignal, (p) => {
    // Signals of an earlier attempt can arrive late: never let them overwrite a newer attempt's progress.
    if (!state.training || p.attempt >= state.training.attempt) state.training = p;
  });
  const addEvaluation = (e: ModelEvaluation) => state.evaluations.push({ model: e.model, rougeLsum: e.rougeLsum, ratingsRmse: e.ratingsRmse });

  // The review decision: accepted only while this run waits for it, once, and well-formed (the validator rejects
  // anything else before it reaches history).
  let decision: ReviewOutcome | undefined;
  setHandler(
    reviewUpdate,
    (d) => {
      const parsed = reviewDecisionSchema.parse(d);
      decision ??= { decision: parsed.decision, by: parsed.by, reason: parsed.reason, at: new Date().toISOString(), timedOut: false };
      return decision;
    },
    {
      validator: (d) => {
        if (state.stage !== 'review') throw new Error(`this run is not awaiting review (stage: ${state.stage}${cfg.review ? '' : '; it was started without review: true'})`);
        if (decision) throw new Error(`this run was already ${decision.decision === 'approve' ? 'approved' : 'rejected'} by ${decision.by}`);
        const r = reviewDecisionSchema.safeParse(d);
        if (!r.success) throw new Error(`invalid review decision: ${r.error.issues.map((i) => `${i.path.join('.') || 'decision'}: ${i.message}`).join('; ')}`);
      },
    },
  );

  // Every variant to train: the config's own model, or one per entry of `variants` with its overrides.
  const variants = cfg.variants
    ? cfg.variants.map((v) => ({
        name: v.name,
        training: trainingSchema.parse(withOverrides(cfg.training, v.overrides.training)),
        generation: generationSchema.parse(withOverrides(cfg.generation, v.overrides.generation)),
      }))
    : [{ name: cfg.model.name, training: cfg.training, generation: cfg.generation }];

  const labels = [...variants.map((v) => v.name), ...cfg.evaluation.floors, ...cfg.evaluation.baselines.map(baselineName)];
  const dup = labels.find((l, i) => labels.indexOf(l) !== i);
  if (dup) throw ApplicationFailure.nonRetryable(`invalid train input: evaluation.baselines: two report rows are named "${dup}"`, 'InvalidInput');

  const datasetName = 'manifestUri' in cfg.dataset ? undefined : cfg.dataset.name;
  const manifestUri = 'manifestUri' in cfg.dataset ? cfg.dataset.manifestUri : undefined;
  const method = cfg.training.quantization === '4bit' ? 'QLoRA' : 'LoRA';
  const summary = `train "${cfg.model.name}": ${method} on ${cfg.model.baseModel} with dataset ${datasetName ? `"${datasetName}"` : manifestUri}${cfg.variants ? `, variants ${cfg.variants.map((v) => v.name).join(' vs ')}` : ''}${cfg.publish ? `, publish to ${cfg.publish.repo} if it passes${cfg.review ? ' and is approved' : ''}` : ''}`;
  const visibility = await startVisibility({
    tags: { TwinflowPipeline: ['train'], TwinflowModel: [cfg.model.baseModel], TwinflowDataset: datasetName ? [datasetName] : [] },
    memo: {
      summary,
      input: {
        name: cfg.name,
        model: cfg.model,
        dataset: datasetName ? { name: datasetName } : { manifestUri },
        method,
        baselines: cfg.evaluation.baselines.map(baselineName),
        ...(cfg.variants ? { variants: cfg.variants.map((v) => v.name) } : {}),
        ...(cfg.publish ? { publish: cfg.publish.repo } : {}),
        ...(cfg.review ? { review: true } : {}),
      },
    },
    details: summary,
  });

  const gpuTaskQueue = cfg.gpu.taskQueue ?? (await cpu.trainRuntime()).gpuTaskQueue;
  const gpu = proxySummarizedActivities<GpuActivities>(gpuActivityOptions({ ...cfg.gpu, taskQueue: gpuTaskQueue }));

  // 1. Dataset (once for every variant: they are compared on the same test split).
  state.stage = 'dataset';
  const dataset: DatasetRef =
    'manifestUri' in cfg.dataset
      ? await cpu.loadDataset({ manifestUri: cfg.dataset.manifestUri })
      : await cpu.buildDataset({
          spec: cfg.dataset,
          tokenizer: cfg.dataset.tokenizer ?? cfg.model.baseModel,
          maxSeqLength: cfg.dataset.maxSeqLength ?? cfg.training.maxSeqLength,
          chatTemplate: cfg.training.chatTemplate,
        });
  state.dataset = { version: dataset.version, manifestUri: dataset.manifestUri, counts: dataset.counts };
  // A dataset given by manifest is named only once it is loaded (the old code tagged nothing: nothing to repeat).
  if (visibility.patched && !datasetName) visibility.tag({ TwinflowDataset: [dataset.name] });

  const common = { testUri: dataset.testUri, format: dataset.format, useStemmer: cfg.evaluation.useStemmer, maxExamples: cfg.evaluation.maxExamples };
  let baselineRuns: Array<Promise<ModelEvaluation>> = [];
  let floorRun: Promise<ModelEvaluation[]> = Promise.resolve([]);
  const trained: Array<{ name: string; fineTune: FineTuneResult; model: ModelEvaluation }> = [];
  for (const [i, v] of variants.entries()) {
    if (cfg.variants) state.variant = v.name;
    // 2. Fine-tune.
    state.stage = 'finetune';
    state.training = undefined;
    state.generation = undefined; // the previous variant's answers are not this one's
    let fineTune: FineTuneResult = await gpu.fineTune({
      ...(cfg.variants && { variant: v.name }),
      baseModel: cfg.model.baseModel,
      trainUri: dataset.trainUri,
      validationUri: dataset.counts.validation > 0 ? dataset.validationUri : undefined,
      training: v.training,
      progressIntervalSeconds: cfg.gpu.progressIntervalSeconds,
    });
    // 2b. Preference tuning (optional): DPO on the SFT adapter, with the same heartbeat/checkpoint/resume contract; its
    // adapter is what is generated, scored and published. Inputs without `dpo` (all runs recorded before it existed)
    // issue no new command, so replay needs no patch.
    if (cfg.dpo) {
      state.stage = 'dpo';
      state.training = undefined;
      const sft = fineTune;
      fineTune = {
        ...(await gpu.preferenceTune({
          ...(cfg.variants && { variant: v.name }),
          baseModel: cfg.model.baseModel,
          trainUri: dataset.trainUri,
          training: v.training,
          progressIntervalSeconds: cfg.gpu.progressIntervalSeconds,
          dpo: { sftAdapterUri: sft.adapterUri, settings: cfg.dpo },
        })),
        sft,
      };
    }

    // 3. Generation with the fine-tuned model (GPU) while the baselines answer the same prompts (CPU), once.
    state.stage = 'generate';
    if (i === 0) {
      // The no-LLM floors (seconds on a CPU worker): rows to beat in every report, even offline. Runs recorded before
      // they existed replay without them (no marker in their history).
      if (cfg.evaluation.floors.length > 0 && patched('floor-baselines')) {
        floorRun = cpu.runFloorBaselines({ ...common, floors: cfg.evaluation.floors, trainUri: dataset.trainUri });
        floorRun.catch(() => undefined);
      }
      baselineRuns = cfg.evaluation.baselines.map((b) =>
        cpu.runBaseline({ ...common, baseline: b, trainUri: dataset.trainUri, seed: 'split' in cfg.dataset ? cfg.dataset.split.seed : 42 }).then((e) => {
          addEvaluation(e);
          return e;
        }),
      );
      // If generation fails first, the baselines' outcome no longer matters: do not leave their rejections unhandled.
      for (const run of baselineRuns) run.catch(() => undefined);
    }
    const generated = await gpu.generatePredictions({
      modelName: v.name,
      baseModel: cfg.model.baseModel,
      adapterUri: fineTune.adapterUri,
      testUri: dataset.testUri,
      generation: v.generation,
      maxExamples: cfg.evaluation.maxExamples,
      chatTemplate: v.training.chatTemplate,
    });
    state.generation = { done: generated.count, total: generated.count };

    // 4. Metrics.
    state.stage = 'evaluate';
    const model = await cpu.evaluatePredictions({ ...common, modelName: v.name, kind: 'fine-tuned', predictionsUri: generated.predictionsUri });
    addEvaluation(model);
    trained.push({ name: v.name, fineTune, model });
  }
  const floors = await floorRun;
  floors.forEach(addEvaluation);
  const baselines = [...floors, ...(await Promise.all(baselineRuns))];
  const evaluations = [...baselines, ...trained.map((t) => t.model)];
  // The variant that is published (and reviewed): publish.variant, else the first.
  const chosen = trained.find((t) => t.name === cfg.publish?.variant) ?? trained[0]!;

  // 5. Report (with the review page).
  state.stage = 'report';
  const report = await cpu.writeReport({
    name: cfg.name,
    dataset: { name: dataset.name, version: dataset.version, testUri: dataset.testUri, counts: dataset.counts },
    evaluations,
    useStemmer: cfg.evaluation.useStemmer,
    lossCurves: trained.flatMap((t) => [
      ...(t.fineTune.sft?.lossCurveUri ? [{ model: t.name, stage: 'sft' as const, uri: t.fineTune.sft.lossCurveUri }] : []),
      ...(t.fineTune.lossCurveUri ? [{ model: t.name, stage: t.fineTune.dpo ? ('dpo' as const) : ('sft' as const), uri: t.fineTune.lossCurveUri }] : []),
    ]),
  });

  // 6. Human review, when asked for and when the gate would let the model through (a failing gate publishes
  // nothing, so there is nothing to decide).
  const review = reviewSettingsOf(cfg.review);
  let outcome: ReviewOutcome | undefined;
  let publish: TrainResult['publish'];
  if (cfg.publish && review && checkGate(cfg.publish.gate, chosen.model, baselines).passed) {
    const timeoutMs = msToNumber(review.timeout);
    state.review = { reviewUri: report.reviewUri ?? '', deadline: new Date(Date.now() + timeoutMs).toISOString(), onTimeout: review.onTimeout };
    state.stage = 'review';
    visibility.tag({ TwinflowStatus: ['awaiting_review'] });
    const decided = await condition(() => decision !== undefined, timeoutMs);
    outcome = decided
      ? decision!
      : {
          decision: review.onTimeout === 'publish' ? 'approve' : 'reject',
          by: 'review.onTimeout policy',
          reason: `no decision within ${String(review.timeout)}; review.onTimeout is "${review.onTimeout}"`,
          at: new Date().toISOString(),
          timedOut: true,
        };
    state.review.outcome = outcome;
    visibility.tag({ TwinflowStatus: [outcome.timedOut ? `review_timed_out_${outcome.decision === 'approve' ? 'published' : 'rejected'}` : outcome.decision === 'approve' ? 'review_approved' : 'review_rejected'] });
    if (outcome.decision === 'reject') {
      publish = {
        published: false,
        dryRun: cfg.publish.dryRun,
        gatePassed: true,
        reasons: [outcome.timedOut ? `rejected: ${outcome.reason}` : `rejected in review by ${outcome.by}: ${outcome.reason}`],
        files: [],
      };
    }
  }

  // 7. Publish (gated inside the activity, so the decision and its reasons are recorded with the result).
  if (cfg.publish && !publish) {
    state.stage = 'publish';
    publish = await cpu.publishModel({
      publish: cfg.publish,
      baseModel: cfg.model.baseModel,
      adapterUri: chosen.fineTune.adapterUri,
      mergedUri: chosen.fineTune.mergedUri,
      dataset: { name: dataset.name, version: dataset.version, manifestUri: dataset.manifestUri, counts: dataset.counts },
      model: chosen.model,
      evaluations,
      training: variants.find((v) => v.name === chosen.name)!.training,
      ...(cfg.dpo && {
        dpo: {
          settings: cfg.dpo,
          sftAdapterUri: chosen.fineTune.sft?.adapterUri,
          pairsUri: chosen.fineTune.pairsUri ?? cfg.dpo.pairsUri,
          metrics: chosen.fineTune.dpo,
        },
      }),
      reportUri: report.reportUri,
      ...(outcome && { review: outcome, reviewUri: report.reviewUri }),
    });
  }
  state.stage = 'done';
  return {
    dataset,
    fineTune: chosen.fineTune,
    evaluations,
    report,
    publish,
    ...(cfg.variants && { variants: trained.map((t) => ({ name: t.name, fineTune: t.fineTune })) }),
    ...(outcome && { review: outcome }),
  };
}
