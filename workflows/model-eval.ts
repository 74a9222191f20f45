/**
 * The `evaluateModel` workflow: evaluate models that already exist on one dataset version, without training — LoRA
 * adapters (an S3 prefix such as a train run's …/model/adapter/, or a folder on the GPU worker), merged weights, the
 * base model alone (generated on the GPU queue, like the train workflow's generation) and OpenAI-compatible
 * endpoints (answered from the CPU queue, their answers cached in S3) — and write one comparison report: the table,
 * the chart and the review page. The same activities as `train`, so the numbers are comparable row for row.
 */
import { ApplicationFailure, defineQuery, patched, setHandler } from '@temporalio/workflow';
import type { DatasetActivities } from '../activities/dataset';
import type { EvaluateActivities } from '../activities/model-eval';
import type { GpuActivities } from '../activities/gpu';
import { type EvaluateModelInput, evaluateModelInputSchema, type EvaluateModelProgress, type EvaluateModelResult } from '../lib/schemas/model-eval';
import { baselineName, type ModelEvaluation } from '../lib/schemas/train';
import { gpuActivityOptions, TRAINING_CPU_ACTIVITY } from './policies';
import { validateWorkflowInput } from './validation';
import { proxySummarizedActivities, startVisibility } from './visibility';

export const evaluateModelProgressQuery = defineQuery<EvaluateModelProgress>('progress');

const cpu = proxySummarizedActivities<DatasetActivities & EvaluateActivities>(TRAINING_CPU_ACTIVITY);


export async function evaluateModel(input: EvaluateModelInput): Promise<EvaluateModelResult> {
  const cfg = validateWorkflowInput(evaluateModelInputSchema, input, 'evaluateModel');
  const state: EvaluateModelProgress = { stage: 'starting', evaluations: [] };
  setHandler(evaluateModelProgressQuery, () => state);
  const add = (e: ModelEvaluation) => {
    state.evaluations.push({ model: e.model, rougeLsum: e.rougeLsum, ratingsRmse: e.ratingsRmse });
    return e;
  };

  // The no-LLM floors (train-mean, nearest-train; activities/model-eval/baseline.ts), as in the train workflow: the
  // table's first rows, to beat even offline. Runs recorded before them (tests/replay/histories/evaluateModel--*)
  // scheduled no floor activity; patched() keeps them replaying unchanged.
  const floors = cfg.evaluation.floors.length > 0 && patched('floor-baselines') ? cfg.evaluation.floors : [];

  const labels = [...floors, ...cfg.models.map((m) => m.name), ...cfg.endpoints.map(baselineName)];
  const dup = labels.find((l, i) => labels.indexOf(l) !== i);
  if (dup) throw ApplicationFailure.nonRetryable(`invalid evaluateModel input: two report rows are named "${dup}"`, 'InvalidInput');

  const summary = `evaluate ${labels.join(', ')} on ${cfg.dataset.manifestUri}`;
  await startVisibility({
    tags: { TwinflowPipeline: ['evalModel'], TwinflowModel: cfg.models.slice(0, 1).map((m) => m.baseModel) },
    memo: { summary, input: { name: cfg.name, dataset: cfg.dataset, models: cfg.models, endpoints: cfg.endpoints.map(baselineName) } },
    details: summary,
  });

  state.stage = 'dataset';
  const dataset = await cpu.loadDataset({ manifestUri: cfg.dataset.manifestUri });
  state.dataset = { version: dataset.version, counts: dataset.counts };

  // Endpoints answer on the CPU queue while the GPU generates.
  state.stage = 'generate';
  const common = { testUri: dataset.testUri, format: dataset.format, useStemmer: cfg.evaluation.useStemmer, maxExamples: cfg.evaluation.maxExamples };
  let floorRun: Promise<ModelEvaluation[]> = Promise.resolve([]);
  if (floors.length > 0) {
    floorRun = cpu.runFloorBaselines({ ...common, floors, trainUri: dataset.trainUri }).then((rows) => rows.map(add));
    // If generation fails first, the floors' outcome no longer matters: do not leave their rejection unhandled.
    floorRun.catch(() => undefined);
  }
  const endpointRuns = cfg.endpoints.map((b) => cpu.runBaseline({ ...common, baseline: b, trainUri: dataset.trainUri, seed: cfg.evaluation.seed }).then(add));
  for (const run of endpointRuns) run.catch(() => undefined);

  const local: ModelEvaluation[] = [];
  if (cfg.models.length > 0) {
    const gpu = proxySummarizedActivities<GpuActivities>(
      gpuActivityOptions({ ...cfg.gpu, taskQueue: cfg.gpu.taskQueue ?? (await cpu.trainRuntime()).gpuTaskQueue, retryInitialInterval: '10 seconds' }),
    );
    for (const m of cfg.models) {
      const generated = await gpu.generatePredictions({
        modelName: m.name,
        baseModel: m.baseModel,
        adapterUri: m.adapter,
        testUri: dataset.testUri,
        generation: cfg.generation,
        maxExamples: cfg.evaluation.maxExamples,
        chatTemplate: m.chatTemplate,
      });
      const kind = (m.kind ?? (m.adapter ? 'adapter' : 'base')) === 'base' ? 'baseline' : 'fine-tuned';
      local.push(add(await cpu.evaluatePredictions({ ...common, modelName: m.name, kind, predictionsUri: generated.predictionsUri })));
    }
  }
  state.stage = 'evaluate';
  const floorRows = await floorRun;
  const endpoints = await Promise.all(endpointRuns);
  const evaluations = [...floorRows, ...endpoints, ...local];

  state.stage = 'report';
  const report = await cpu.writeReport({
    name: cfg.name,
    dataset: { name: dataset.name, version: dataset.version, testUri: dataset.testUri, counts: dataset.counts },
    evaluations,
    useStemmer: cfg.evaluation.useStemmer,
  });
  state.stage = 'done';
  return { dataset, evaluations, report };
}
