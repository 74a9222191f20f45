/**
 * `twinflow train --config train.json`: run the training pipeline (dataset → fine-tune → evaluate → publish) and
 * print its progress and the final report table. `--with-workers` also runs a CPU and a GPU worker in this process
 * (one command on a single GPU machine); otherwise the running workers pick it up.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Info } from '@temporalio/activity';
import type { Command } from 'commander';
import { loadTrainerSettings } from '../../activities/gpu/settings';
import { runPrefixOf } from '../../activities/gpu/shared';
import { ReviewRefusedError, TwinflowClient } from '../../client';
import { ArtifactNotFoundError, ArtifactStore } from '../../lib/artifacts';
import { type Config, loadConfig } from '../../lib/config';
import { type ReviewOutcome, type TrainInput, trainInputSchema, type TrainProgress, type TrainResult } from '../../lib/schemas/train';
import { InputValidationError, parseInput } from '../../lib/schemas/validate';
import { followRun, printJson, type ProgressView } from '../follow';
import { serveReview } from '../review-server';
import { localPathsOfTrain, withLocalWorkers } from '../shared/local-workers';
import { addRunOutputOptions } from '../shared/run-output-options';
import { ensureExampleModel } from '../tiny-model';

interface TrainFlags {
  config?: string;
  workflowId?: string;
  wait: boolean;
  withWorkers: boolean;
  waitForWorker?: boolean;
  json?: boolean;
}

const isRelative = (p: unknown): p is string => typeof p === 'string' && (p.startsWith('./') || p.startsWith('../'));

/** Reads the JSON input; "./" and "../" paths in it are taken relative to the file, as a reader would expect. */
export function readTrainConfig(file: string): TrainInput {
  let input: Record<string, unknown>;
  try {
    input = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new InputValidationError(`--config ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const dir = path.dirname(path.resolve(file));
  const abs = (p: string) => path.resolve(dir, p);
  const dataset = input.dataset as Record<string, unknown> | undefined;
  const source = dataset?.source as Record<string, unknown> | undefined;
  if (source && isRelative(source.uri)) source.uri = abs(source.uri);
  if (dataset && isRelative(dataset.tokenizer)) dataset.tokenizer = abs(dataset.tokenizer);
  const model = input.model as Record<string, unknown> | undefined;
  if (model && isRelative(model.baseModel)) model.baseModel = abs(model.baseModel);
  return input as TrainInput;
}

const fmtNum = (v: number | undefined, digits = 4) => (v === undefined ? '-' : Number(v.toPrecision(digits)).toString());
/** A run's mean training loss, or that the trainer reported none (never shown as 0 or a dash). */
const fmtMeanLoss = (v: number | null) => (v === null ? 'not reported' : fmtNum(v));
function fmtEta(s: number | undefined): string {
  if (s === undefined) return '-';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

export function formatTrainProgress(p: TrainProgress): string {
  const parts = [`[${p.stage}]`];
  if (p.dataset) parts.push(`dataset ${p.dataset.version} (${p.dataset.counts.train}/${p.dataset.counts.validation}/${p.dataset.counts.test})`);
  const t = p.training;
  if (t && p.stage === 'generate') {
    // Training is over: its figures are the last step's, said so, and the live figure is the answers generated.
    if (p.generation?.total) parts.push(`test answers ${p.generation.done}/${p.generation.total}`);
    parts.push(`trained ${t.step} steps, last loss ${fmtNum(t.loss)}`);
  } else if (t && (p.stage === 'finetune' || p.stage === 'dpo')) {
    parts.push(
      `step ${t.step}/${t.maxSteps || '?'}`,
      `loss ${fmtNum(t.loss)}`,
      `lr ${t.learningRate === undefined ? '-' : t.learningRate.toExponential(1)}`,
      `${t.tokensPerSecond === undefined ? '-' : Math.round(t.tokensPerSecond)} tok/s`,
      `ETA ${fmtEta(t.etaSeconds)}`,
    );
    if (t.evalLoss !== undefined) parts.push(`eval ${fmtNum(t.evalLoss)}`);
    if (t.attempt > 1) parts.push(`attempt ${t.attempt}${t.resumedFromStep ? ` (resumed at ${t.resumedFromStep})` : ''}`);
  }
  if (p.variant && p.stage !== 'review' && p.stage !== 'done') parts.push(`variant ${p.variant}`);
  for (const e of p.evaluations) parts.push(`${e.model}: ROUGE-Lsum ${e.rougeLsum === null ? 'n/a' : e.rougeLsum.toFixed(4)}`);
  if (p.stage === 'review' && p.review && !p.review.outcome) parts.push(`awaiting review until ${p.review.deadline} (then ${p.review.onTimeout}): twinflow train review|approve|reject <workflow-id>`);
  return parts.join(' | ');
}

/** The bar's reading of a train run: training steps while fine-tuning, test answers while generating. */
export function trainProgressView(p: TrainProgress): ProgressView {
  const line = formatTrainProgress(p);
  if ((p.stage === 'finetune' || p.stage === 'dpo') && p.training?.maxSteps) return { line, value: p.training.step, total: p.training.maxSteps };
  if (p.stage === 'generate' && p.generation?.total) return { line, value: p.generation.done, total: p.generation.total };
  if (p.stage === 'done') return { line, value: 1, total: 1 };
  return { line };
}

export function formatTrainResult(r: TrainResult): string {
  const lines = [
    '',
    r.report.markdown,
    '',
    `dataset   ${r.dataset.name}@${r.dataset.version}  ${r.dataset.manifestUri}`,
    `adapter   ${r.fineTune.adapterUri}${r.fineTune.mergedUri ? `  merged ${r.fineTune.mergedUri}` : ''}  (${r.fineTune.metrics.globalStep} steps, mean training loss ${fmtMeanLoss(r.fineTune.metrics.trainLoss)})`,
    `report    ${r.report.reportUri}`,
    `chart     ${r.report.chartUri}`,
    ...(r.report.reviewUri ? [`review    ${r.report.reviewUri}`] : []),
    ...(r.variants ?? []).map((v) => `variant   ${v.name}: ${v.fineTune.adapterUri} (${v.fineTune.metrics.globalStep} steps, mean training loss ${fmtMeanLoss(v.fineTune.metrics.trainLoss)})`),
    ...(r.review ? [`decision  ${describeOutcome(r.review)}`] : []),
  ];
  if (r.publish) {
    const p = r.publish;
    lines.push(
      p.published ? `published ${p.repoUrl} (commit ${p.commitOid ?? '?'})` : p.dryRun && p.gatePassed ? `dry run   ${p.dryRunUri} (${p.files.length} files)` : 'published nothing: the gate failed',
      ...p.reasons.map((x) => `          ${x}`),
    );
  }
  return lines.join('\n');
}

export function describeOutcome(r: ReviewOutcome): string {
  if (r.timedOut) return `${r.decision === 'approve' ? 'published' : 'rejected'} by the timeout policy at ${r.at} (${r.reason})`;
  return `${r.decision === 'approve' ? 'approved' : 'rejected'} by ${r.by} at ${r.at}: ${r.reason}`;
}

/** Who decides, by default: the local user at this host (the review Update carries it into the model card). */
export const defaultReviewer = () => `${os.userInfo().username}@${os.hostname()}`;

/** The review page of a run (train or evaluateModel): runs/<workflowId>/<runId>/report/review.html in S3. */
export async function fetchReviewPage(config: Config, client: TwinflowClient, workflowId: string): Promise<{ html: string; uri: string; runId: string }> {
  const d = await client.handle(workflowId).describe();
  const artifacts = ArtifactStore.fromConfig(config);
  const key = `${runPrefixOf({ workflowExecution: { workflowId, runId: d.runId } } as Info)}/report/review.html`;
  try {
    return { html: await artifacts.getText(key), uri: artifacts.uri(key), runId: d.runId };
  } catch (err) {
    if (err instanceof ArtifactNotFoundError) {
      throw new InputValidationError(`run ${workflowId}: no review page yet (${artifacts.uri(key)}); it is written with the report, after the evaluation (status: ${d.status.name})`);
    }
    throw err;
  }
}

export function registerTrainCommand(program: Command): void {
  const cmd = program
    .command('train')
    .description('dataset → fine-tune (GPU queue) → evaluate vs baselines → publish; prints progress and the report table')
    // Not a required option: `train review|approve|reject` are subcommands without it (checked in the action).
    .option('-c, --config <file>', 'JSON file with the workflow input (see docs/training.md)')
    .option('--workflow-id <id>', 'workflow id (default: train-<name>-<timestamp>); one still running with it is followed, not started again')
    .option('--no-wait', 'start and print the workflow id without waiting')
    .option('--with-workers', 'also run a CPU and a GPU worker in this process', false);
  addRunOutputOptions(cmd).action(async (flags: TrainFlags) => {
    if (!flags.config) throw new InputValidationError('train: --config <file> is required (or use train review|approve|reject <workflow-id>)');
    const input = readTrainConfig(flags.config);
    const parsed = parseInput(trainInputSchema, input, 'train'); // fail on a bad file before connecting to anything
    const config = loadConfig();
    const client = await TwinflowClient.connect(config);
    const main = async () => {
      const handle = await client.startTrain(input, { workflowId: flags.workflowId });
      return followRun({
        client,
        workflowType: 'train',
        handle,
        flags,
        // The workers of --with-workers are this process's: nothing to check.
        needs: flags.withWorkers ? [] : client.workerNeeds('train', handle.taskQueue, parsed.gpu.taskQueue ?? config.temporal.gpuTaskQueue),
        // Training progress changes slowly: poll every 2 s.
        intervalMs: 2000,
        progress: async () => trainProgressView((await client.progress('train', handle.workflowId)) as TrainProgress),
        format: formatTrainResult,
        // In-process workers shut down on SIGINT themselves (the trainer process is stopped first).
        exitOnInterrupt: !flags.withWorkers,
      });
    };
    try {
      // An example's tiny model (examples/reviews/tiny-model.json) is built on first use: the workers are this
      // process's, so the folder the config names is on this machine.
      if (flags.withWorkers) await ensureExampleModel(input.model.baseModel, loadTrainerSettings(config).python, (l) => console.error(l));
      process.exitCode = await (flags.withWorkers ? withLocalWorkers(main, localPathsOfTrain(input)) : main());
    } finally {
      await client.close();
    }
  });  registerReviewCommands(cmd);
}

interface DecisionFlags {
  reason: string;
  by?: string;
  json?: boolean;
}

function registerReviewCommands(cmd: Command): void {
  cmd
    .command('review <workflow-id>')
    .description("the run's review page (inputs, references, every model's output and scores side by side): saved locally, or served with approve/reject")
    .option('-o, --out <file>', 'where to save the page (default .twinflow/reviews/<workflow-id>.html)')
    .option('--serve', 'serve it on 127.0.0.1 with an approve/reject form that sends the decision to the run', false)
    .option('--port <n>', 'with --serve: the port (default: any free one)', '0')
    .option('--by <name>', 'with --serve: who decides (default user@host)')
    .action(async (workflowId: string, flags: { out?: string; serve: boolean; port: string; by?: string }) => {
      const config = loadConfig();
      const client = await TwinflowClient.connect(config);
      try {
        const page = await fetchReviewPage(config, client, workflowId);
        const out = flags.out ?? path.join(config.home, 'reviews', `${workflowId.replace(/[^A-Za-z0-9._=-]/g, '_')}.html`);
        fs.mkdirSync(path.dirname(out), { recursive: true });
        fs.writeFileSync(out, page.html);
        console.log(`review page: ${out} (from ${page.uri})`);
        if (!flags.serve) return;
        const port = Number(flags.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InputValidationError(`--port: expected a port number, got ${JSON.stringify(flags.port)}`);
        const server = await serveReview({ html: page.html, workflowId, by: flags.by ?? defaultReviewer(), port, send: (d) => client.reviewTrain(workflowId, d) });
        console.log(`serving on ${server.url} — decide there, or press Ctrl-C to stop`);
        const stop = new Promise<void>((r) => process.once('SIGINT', () => r()));
        const outcome = await Promise.race([server.decided, stop]);
        if (outcome) console.log(describeOutcome(outcome));
        await server.close();
      } finally {
        await client.close();
      }
    });

  for (const decision of ['approve', 'reject'] as const) {
    cmd
      .command(`${decision} <workflow-id>`)
      .description(`${decision} a run that waits in review (the reason and who decided are recorded${decision === 'approve' ? ' in the model card' : ' with the run'})`)
      .requiredOption('-r, --reason <text>', 'why')
      .option('--by <name>', 'who decides (default user@host)')
      .option('--json', 'print the recorded decision as JSON')
      .action(async (workflowId: string, flags: DecisionFlags, command: Command) => {
        // `train` has a --json of its own, which commander gives the parent when the flag follows the subcommand.
        const json = flags.json === true || (command.optsWithGlobals() as DecisionFlags).json === true;
        const client = await TwinflowClient.connect(loadConfig());
        try {
          let outcome: ReviewOutcome;
          try {
            outcome = await client.reviewTrain(workflowId, { decision, reason: flags.reason, by: flags.by ?? defaultReviewer() });
          } catch (err) {
            // The run's validator refused it (not waiting, decided already): its message, as a usage error.
            if (err instanceof ReviewRefusedError) throw new InputValidationError(err.message);
            throw err;
          }
          if (json) printJson({ workflowId, review: outcome });
          else console.log(`${workflowId}: ${describeOutcome(outcome)}`);
        } finally {
          await client.close();
        }
      });
  }
}
