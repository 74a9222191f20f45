/**
 * The `train` workflow: dataset build (CPU) → fine-tune (GPU queue) → generation on the test split (GPU) and
 * baselines (CPU, in parallel) → metrics (CPU) → report → publish (CPU, gated). One JSON input, validated; history
 * holds URIs, counts and small summaries only (claim check). The `progress` query reports the stage, the dataset,
 * the training step/loss/ETA (signalled by the fine-tune activity) and the evaluations so far.
 */
import { ActivityCancellationType, ApplicationFailure, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';
import type { DatasetActivities } from '../activities/dataset';
import type { EvaluateActivities } from '../activities/evaluate';
import type { GpuActivities } from '../activities/gpu';
import type { PublishActivities } from '../activities/publish';
import {
  type DatasetRef,
  type ModelEvaluation,
  TRAIN_PROGRESS_QUERY,
  TRAINING_PROGRESS_SIGNAL,
  type TrainInput,
  trainInputSchema,
  type TrainingProgress,
  type TrainProgress,
  type TrainResult,
} from '../lib/schemas/train';
import { validateWorkflowInput } from './validation';
import { proxySummarizedActivities, startVisibility } from './visibility';

export const trainProgressQuery = defineQuery<TrainProgress>(TRAIN_PROGRESS_QUERY);
export const trainingProgressSignal = defineSignal<[TrainingProgress]>(TRAINING_PROGRESS_SIGNAL);

const cpu = proxySummarizedActivities<DatasetActivities & EvaluateActivities & PublishActivities>({
  startToCloseTimeout: '4 hours',
  heartbeatTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5 },
});

/** Baseline rows use the same names the evaluate activity gives them. */
function baselineLabel(b: { name?: string; model: string; shots: number }): string {
  return b.name ?? `${b.model.replace(/[^A-Za-z0-9._-]/g, '-')}${b.shots > 0 ? '-fewshot' : ''}`;
}

export async function train(input: TrainInput): Promise<TrainResult> {
  const cfg = validateWorkflowInput(trainInputSchema, input, 'train');
  const state: TrainProgress = { stage: 'starting', evaluations: [] };
  setHandler(trainProgressQuery, () => state);
  setHandler(trainingProgressSignal, (p) => {
    // Signals of an earlier attempt can arrive late: never let them overwrite a newer attempt's progress.
    if (!state.training || p.attempt >= state.training.attempt) state.training = p;
  });
  const addEvaluation = (e: ModelEvaluation) => state.evaluations.push({ model: e.model, rougeLsum: e.rougeLsum, ratingsRmse: e.ratingsRmse });

  const labels = [cfg.model.name, ...cfg.evaluation.baselines.map(baselineLabel)];
  const dup = labels.find((l, i) => labels.indexOf(l) !== i);
  if (dup) throw ApplicationFailure.nonRetryable(`invalid train input: evaluation.baselines: two report rows are named "${dup}"`, 'InvalidInput');

  const datasetName = 'manifestUri' in cfg.dataset ? undefined : cfg.dataset.name;
  const manifestUri = 'manifestUri' in cfg.dataset ? cfg.dataset.manifestUri : undefined;
  const method = cfg.training.quantization === '4bit' ? 'QLoRA' : 'LoRA';
  const summary = `train "${cfg.model.name}": ${method} on ${cfg.model.baseModel} with dataset ${datasetName ? `"${datasetName}"` : manifestUri}${cfg.publish ? `, publish to ${cfg.publish.repo} if it passes` : ''}`;
  const visibility = await startVisibility({
    tags: { TwinflowPipeline: ['train'], TwinflowModel: [cfg.model.baseModel], TwinflowDataset: datasetName ? [datasetName] : [] },
    memo: {
      summary,
      input: {
        name: cfg.name,
        model: cfg.model,
        dataset: datasetName ? { name: datasetName } : { manifestUri },
        method,
        baselines: cfg.evaluation.baselines.map(baselineLabel),
        ...(cfg.publish ? { publish: cfg.publish.repo } : {}),
      },
    },
    details: summary,
  });

  const gpuTaskQueue = cfg.gpu.taskQueue ?? (await cpu.trainRuntime()).gpuTaskQueue;
  const gpu = proxySummarizedActivities<GpuActivities>({
    taskQueue: gpuTaskQueue,
    startToCloseTimeout: cfg.gpu.startToCloseTimeout,
    heartbeatTimeout: cfg.gpu.heartbeatTimeout,
    retry: { initialInterval: cfg.gpu.retryInitialInterval, backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: cfg.gpu.maximumAttempts },
    // A cancelled workflow waits until the trainer process is really gone (the GPU is free again).
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });

  // 1. Dataset.
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

  // 2. Fine-tune.
  state.stage = 'finetune';
  const fineTune = await gpu.fineTune({
    baseModel: cfg.model.baseModel,
    trainUri: dataset.trainUri,
    validationUri: dataset.counts.validation > 0 ? dataset.validationUri : undefined,
    training: cfg.training,
    progressIntervalSeconds: cfg.gpu.progressIntervalSeconds,
  });

  // 3. Generation with the fine-tuned model (GPU) while the baselines answer the same prompts (CPU).
  state.stage = 'generate';
  const common = { testUri: dataset.testUri, format: dataset.format, useStemmer: cfg.evaluation.useStemmer, maxExamples: cfg.evaluation.maxExamples };
  const baselineRuns = cfg.evaluation.baselines.map((b) =>
    cpu.runBaseline({ ...common, baseline: b, trainUri: dataset.trainUri, seed: 'split' in cfg.dataset ? cfg.dataset.split.seed : 42 }).then((e) => {
      addEvaluation(e);
      return e;
    }),
  );
  // If generation fails first, the baselines' outcome no longer matters: do not leave their rejections unhandled.
  for (const run of baselineRuns) run.catch(() => undefined);
  const generated = await gpu.generatePredictions({
    modelName: cfg.model.name,
    baseModel: cfg.model.baseModel,
    adapterUri: fineTune.adapterUri,
    testUri: dataset.testUri,
    generation: cfg.generation,
    maxExamples: cfg.evaluation.maxExamples,
    chatTemplate: cfg.training.chatTemplate,
  });
  state.generation = { done: generated.count, total: generated.count };

  // 4. Metrics.
  state.stage = 'evaluate';
  const model = await cpu.evaluatePredictions({ ...common, modelName: cfg.model.name, kind: 'fine-tuned', predictionsUri: generated.predictionsUri });
  addEvaluation(model);
  const baselines = await Promise.all(baselineRuns);
  const evaluations = [...baselines, model];

  // 5. Report.
  state.stage = 'report';
  const report = await cpu.writeReport({
    name: cfg.name,
    dataset: { name: dataset.name, version: dataset.version, testUri: dataset.testUri, counts: dataset.counts },
    evaluations,
    useStemmer: cfg.evaluation.useStemmer,
  });

  // 6. Publish (gated inside the activity, so the decision and its reasons are recorded with the result).
  let publish: TrainResult['publish'];
  if (cfg.publish) {
    state.stage = 'publish';
    publish = await cpu.publishModel({
      publish: cfg.publish,
      baseModel: cfg.model.baseModel,
      adapterUri: fineTune.adapterUri,
      mergedUri: fineTune.mergedUri,
      dataset: { name: dataset.name, version: dataset.version, manifestUri: dataset.manifestUri, counts: dataset.counts },
      model,
      evaluations,
      training: cfg.training,
      reportUri: report.reportUri,
    });
  }
  state.stage = 'done';
  return { dataset, fineTune, evaluations, report, publish };
}
