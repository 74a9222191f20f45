/**
 * Batched generation on the test split (GPU task queue): the prompts are the test conversations without their last
 * assistant turn; the trainer's `generate` command (vLLM when installed, else transformers) writes {id, output}
 * lines, which go to S3. Progress lines become heartbeats; cancellation stops the subprocess.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ArtifactStore } from '../../lib/artifacts';
import type { ResourcePolicy } from '../../lib/security/resources';
import { sha256 } from '../../lib/hash';
import type { Example, Generation, TrainerGenerateConfig } from '../../lib/schemas/train';
import { downloadDir } from './s3-dirs';
import type { TrainerSettings } from './settings';
import { checkModelPath, downloadModelPrefix, type GpuHooks, runPrefixOf, runTrainerCommand, throwAsActivityFailure } from './shared';

export interface GenerateInput {
  /** Report name of the model (names the predictions file). */
  modelName: string;
  baseModel: string;
  /** s3:// prefix of a PEFT adapter (from fineTune) or a folder on this worker; absent: the base model alone. */
  adapterUri?: string;
  testUri: string;
  generation: Generation;
  maxExamples?: number;
  chatTemplate?: string;
}

/** The generation prompt of an example: its conversation up to (not including) the last assistant turn. */
export function promptOf(e: Example): Example['messages'] {
  const last = e.messages.map((m) => m.role).lastIndexOf('assistant');
  return last > 0 ? e.messages.slice(0, last) : e.messages;
}

/** The trainer's generate config (lib/schemas/train.ts trainerGenerateConfigSchema) from the workflow's settings. */
export function generateTrainerConfig(
  g: Generation,
  files: { baseModel: string; adapterDir?: string; inputFile: string; outputFile: string; chatTemplate?: string },
): TrainerGenerateConfig {
  return {
    base_model: files.baseModel,
    ...(files.adapterDir && { adapter_dir: files.adapterDir }),
    input_file: files.inputFile,
    output_file: files.outputFile,
    max_new_tokens: g.maxNewTokens,
    temperature: g.temperature,
    batch_size: g.batchSize,
    backend: g.backend,
    device: g.device,
    seed: g.seed,
    ...(files.chatTemplate && { chat_template: files.chatTemplate }),
  };
}

export async function generatePredictions(
  input: GenerateInput,
  deps: { artifacts: ArtifactStore; settings: TrainerSettings; hooks: GpuHooks; resources: ResourcePolicy },
): Promise<{ predictionsUri: string; count: number; backend: string }> {
  const { artifacts, settings, hooks, resources } = deps;
  const ctx = Context.current();
  const runPrefix = runPrefixOf(ctx.info);
  const work = path.join(settings.workDir, sha256(runPrefix).slice(0, 16), `generate-${input.modelName}`);
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  try {
    ctx.heartbeat({ done: 0 });
    let examples = await artifacts.readAllJsonl<Example>(input.testUri);
    if (input.maxExamples) examples = examples.slice(0, input.maxExamples);
    const inputFile = path.join(work, 'prompts.jsonl');
    fs.writeFileSync(inputFile, examples.map((e) => JSON.stringify({ id: e.id, messages: promptOf(e) })).join('\n') + '\n');
    let adapterDir: string | undefined;
    if (input.adapterUri?.startsWith('s3://')) {
      adapterDir = path.join(work, 'adapter');
      await downloadDir(artifacts, input.adapterUri, adapterDir);
    } else if (input.adapterUri) {
      // A folder on the GPU worker (`twinflow eval model --adapter ./out/adapter`), where the worker allows it.
      checkModelPath(resources, input.adapterUri, 'adapter');
      if (!fs.existsSync(path.join(input.adapterUri, 'adapter_config.json'))) {
        throw ApplicationFailure.nonRetryable(`adapter: no adapter_config.json in ${input.adapterUri} on the GPU worker (give an s3:// prefix or a folder that holds a PEFT adapter)`, 'AdapterNotFound');
      }
      adapterDir = input.adapterUri;
    }
    const baseModel = await downloadModelPrefix(artifacts, input.baseModel, settings.modelCacheDir, resources);
    const outputFile = path.join(work, 'predictions.jsonl');
    const config = generateTrainerConfig(input.generation, { baseModel, adapterDir, inputFile, outputFile, chatTemplate: input.chatTemplate });
    let last = { done: 0, total: examples.length };
    const timer = setInterval(() => ctx.heartbeat(last), 1000);
    let done;
    try {
      ({ done } = await runTrainerCommand({
        command: 'generate',
        configFile: 'generate-config.json',
        config,
        work,
        ctx,
        settings,
        hooks,
        onEvent: (ev) => {
          if (ev.event === 'progress') {
            last = { done: Number(ev.done) || 0, total: Number(ev.total) || examples.length };
            ctx.heartbeat(last);
          }
        },
      }));
    } finally {
      clearInterval(timer);
    }
    const lines = fs.readFileSync(String(done.output_file), 'utf8');
    const ref = await artifacts.putBytes(`${runPrefix}/predictions/${input.modelName}.jsonl`, lines, 'application/x-ndjson');
    fs.rmSync(work, { recursive: true, force: true });
    return { predictionsUri: ref.uri, count: Number(done.count) || 0, backend: String(done.backend ?? '') };
  } catch (err) {
    return throwAsActivityFailure(err, ctx);
  }
}
