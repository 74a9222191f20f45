/**
 * The model card (README.md) published with the weights: Hugging Face YAML metadata (base_model, library_name,
 * datasets, model-index with the evaluation results) and a body with the evaluation table, the training settings
 * and the lineage (dataset version, workflow and run ids) that reproduce the model.
 */
import { stringify } from 'yaml';
import type { Dpo, DpoMetrics } from '../../lib/schemas/dpo';
import type { DatasetRef, ModelEvaluation, ReviewOutcome, Training } from '../../lib/schemas/train';
import { reportTable } from '../model-eval/report';

export interface ModelCardInput {
  repo: string;
  baseModel: string;
  weights: 'adapter' | 'merged';
  license?: string;
  datasets: string[];
  dataset: Pick<DatasetRef, 'name' | 'version' | 'manifestUri' | 'counts'>;
  model: ModelEvaluation;
  evaluations: ModelEvaluation[];
  training: Training;
  /** Set when the weights came out of a DPO stage after SFT. */
  dpo?: DpoLineage;
  lineage: { workflowId: string; runId: string; adapterUri: string; reportUri?: string; reviewUri?: string; review?: ReviewOutcome };
}

/** What a reader of the card needs to know of a DPO stage: its settings, where its pairs came from, its start. */
export interface DpoLineage {
  settings: Dpo;
  /** The SFT adapter DPO started from (and its frozen reference). */
  sftAdapterUri?: string;
  /** The pairs it learnt from: the generated ones as written by the stage, or the records' pairsUri. */
  pairsUri?: string;
  metrics?: DpoMetrics;
}

/** The Training table's rows of a DPO stage. */
function dpoRows(d: DpoLineage): string[] {
  const s = d.settings;
  const pairs = s.pairs === 'generated' ? 'generated (reference answer chosen, the SFT model\'s own answer rejected)' : `records (${s.pairsUri})`;
  const fmt = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(4));
  return [
    `| preference tuning | DPO (${s.lossType}), beta=${s.beta}, learning rate ${s.learningRate} (${s.lrScheduler}), epochs / max steps ${s.epochs} / ${s.maxSteps}, batch ${s.perDeviceBatchSize} × ${s.gradientAccumulationSteps} |`,
    `| DPO pairs | ${pairs}${d.metrics ? `: ${d.metrics.pairs} used, ${d.metrics.pairsDropped} dropped` : ''} |`,
    ...(d.metrics ? [`| DPO reward accuracy / margin | ${fmt(d.metrics.rewardAccuracy)} / ${fmt(d.metrics.rewardMargin)} |`] : []),
  ];
}

/** The lineage line of a human review: who decided, why and when (or that the timeout policy decided). */
export function reviewLine(r: ReviewOutcome): string {
  const one = (s: string) => s.replace(/\s+/g, ' ').trim();
  return r.timedOut
    ? `- review: nobody decided in time; the configured policy ${r.decision === 'approve' ? 'published' : 'rejected'} it at ${r.at} (${one(r.reason)})`
    : `- review: ${r.decision === 'approve' ? 'approved' : 'rejected'} by ${one(r.by)} at ${r.at}: "${one(r.reason)}"`;
}

/**
 * The base model as a Hub repo id, or undefined when it is not one (a local folder, an s3:// prefix): the Hub rejects
 * such a `base_model`, so the card omits it and says in its text which base the weights need.
 */
export function hubModelId(ref: string): string | undefined {
  if (/^(\/|\.|~|[a-z][a-z0-9+.-]*:\/\/)/i.test(ref)) return undefined;
  // huggingface_hub's validate_repo_id: [namespace/]name, letters, digits, "-", "_", "."; no "--" or "..", 96 chars max.
  if (!/^(?:[A-Za-z0-9][\w.-]*\/)?[A-Za-z0-9][\w.-]*$/.test(ref) || ref.length > 96 || /--|\.\./.test(ref) || /[.-]$/.test(ref)) return undefined;
  return ref;
}

export function modelCardMetadata(c: ModelCardInput): Record<string, unknown> {
  const hubBase = hubModelId(c.baseModel);
  const metrics: Array<Record<string, unknown>> = [];
  if (c.model.rougeLsum !== null) metrics.push({ name: 'ROUGE-Lsum', type: 'rouge', value: Number(c.model.rougeLsum.toFixed(4)) });
  if (c.model.ratingsRmse !== null) metrics.push({ name: 'Ratings RMSE', type: 'rmse', value: Number(c.model.ratingsRmse.toFixed(4)) });
  if (c.model.ratingsMae !== null) metrics.push({ name: 'Ratings MAE', type: 'mae', value: Number(c.model.ratingsMae.toFixed(4)) });
  metrics.push({ name: 'Format compliance', type: 'accuracy', value: Number(c.model.formatCompliance.toFixed(4)) });
  return {
    ...(hubBase && { base_model: hubBase }),
    library_name: c.weights === 'adapter' ? 'peft' : 'transformers',
    ...(c.license && { license: c.license }),
    pipeline_tag: 'text-generation',
    tags: ['twinflow', 'sft', ...(c.dpo ? ['dpo'] : []), 'trl', ...(c.weights === 'adapter' ? ['lora', ...(hubBase ? [`base_model:adapter:${hubBase}`] : [])] : ['merged'])],
    datasets: c.datasets,
    'model-index': [
      {
        name: c.repo.split('/')[1],
        results: [
          {
            task: { type: 'text-generation', name: 'Text Generation' },
            dataset: { name: c.dataset.name, type: c.datasets[0] ?? c.dataset.name, split: 'test', revision: c.dataset.version },
            metrics,
          },
        ],
      },
    ],
  };
}

export function modelCard(c: ModelCardInput): string {
  const t = c.training;
  const usage =
    c.weights === 'adapter'
      ? [
          '```python',
          'from peft import AutoPeftModelForCausalLM',
          'from transformers import AutoTokenizer',
          '',
          `model = AutoPeftModelForCausalLM.from_pretrained("${c.repo}")`,
          `tokenizer = AutoTokenizer.from_pretrained("${c.repo}")`,
          '```',
        ]
      : ['```python', 'from transformers import AutoModelForCausalLM, AutoTokenizer', '', `model = AutoModelForCausalLM.from_pretrained("${c.repo}")`, `tokenizer = AutoTokenizer.from_pretrained("${c.repo}")`, '```'];
  return [
    '---',
    stringify(modelCardMetadata(c), { lineWidth: 0 }).trimEnd(),
    '---',
    '',
    `# ${c.repo.split('/')[1]}`,
    '',
    `A ${c.weights === 'adapter' ? 'LoRA adapter for' : 'fine-tune (LoRA merged into the weights) of'} \`${c.baseModel}\`, trained with twinflow (${c.dpo ? 'TRL SFT then DPO' : 'TRL SFT'} + PEFT) on dataset \`${c.dataset.name}\` version \`${c.dataset.version}\` (${c.dataset.counts.train} train / ${c.dataset.counts.validation} validation / ${c.dataset.counts.test} test examples).`,
    ...(hubModelId(c.baseModel) ? [] : ['', `The base model is not on the Hub (\`${c.baseModel}\` is a local folder or object-store prefix), so this card names no \`base_model\`: load that base model yourself before applying these weights.`]),
    '',
    '## Evaluation',
    '',
    `On the ${c.model.count} examples of the test split (ROUGE-Lsum: F-measure of Google's rouge-score on the text part):`,
    '',
    reportTable(c.evaluations),
    '',
    '## Training',
    '',
    '| setting | value |',
    '|---|---|',
    `| method | ${t.quantization === '4bit' ? 'QLoRA (4-bit NF4)' : 'LoRA'} r=${t.lora.r}, alpha=${t.lora.alpha}, dropout=${t.lora.dropout}, targets=${Array.isArray(t.lora.targetModules) ? t.lora.targetModules.join(',') : t.lora.targetModules} |`,
    `| max sequence length | ${t.maxSeqLength} |`,
    `| epochs / max steps | ${t.epochs} / ${t.maxSteps} |`,
    `| learning rate | ${t.learningRate} (${t.lrScheduler}, warmup ${t.warmupRatio}) |`,
    `| batch | ${t.perDeviceBatchSize} × ${t.gradientAccumulationSteps} accumulation |`,
    `| packing / assistant-only loss | ${t.packing} / ${t.assistantOnlyLoss} |`,
    `| seed | ${t.seed} |`,
    ...(c.dpo ? dpoRows(c.dpo) : []),
    '',
    '## Usage',
    '',
    ...usage,
    '',
    '## Lineage',
    '',
    `- dataset: \`${c.dataset.name}\` version \`${c.dataset.version}\` (${c.dataset.manifestUri})`,
    `- workflow id: \`${c.lineage.workflowId}\``,
    `- run id: \`${c.lineage.runId}\``,
    `- adapter artifact: ${c.lineage.adapterUri}`,
    ...(c.dpo?.sftAdapterUri ? [`- SFT adapter DPO started from: ${c.dpo.sftAdapterUri}`] : []),
    ...(c.dpo?.pairsUri ? [`- DPO pairs: ${c.dpo.pairsUri}`] : []),
    ...(c.lineage.reportUri ? [`- evaluation report: ${c.lineage.reportUri}`] : []),
    ...(c.lineage.reviewUri ? [`- review page: ${c.lineage.reviewUri}`] : []),
    ...(c.lineage.review ? [reviewLine(c.lineage.review)] : []),
    '',
  ].join('\n');
}
