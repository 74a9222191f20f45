/**
 * `twinflow model serve`: the fine-tuned twin behind an OpenAI-compatible API (GET /v1/models, POST
 * /v1/chat/completions with streaming), so that `ask` and `serve` answer in its voice through LLM_BASE_URL. It runs
 * the trainer's small transformers server from the trainer's venv (CPU or one GPU); for throughput on a GPU use vLLM
 * (docs/training.md).
 */
import type { Command } from 'commander';
import { loadConfig } from '../../lib/config';
import { InputValidationError } from '../../lib/schemas/validate';
import { portFlag } from './serve';

interface ModelServeFlags {
  model: string;
  adapter?: string;
  host: string;
  port: string;
  name?: string;
  device: string;
  maxNewTokens: string;
  apiKeyEnv?: string;
  restarts: string;
  json?: boolean;
}

function positiveInt(flag: string, value: string, min = 1): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min) throw new InputValidationError(`${flag}: expected a whole number ≥ ${min}, got ${JSON.stringify(value)}`);
  return n;
}

export function registerModelCommands(program: Command): void {
  const model = program.command('model').description('work with fine-tuned models');
  model
    .command('pull')
    .description('copy a run\'s artifact folder from S3 (an adapter, merged weights, TensorBoard files) to a local folder')
    .argument('<uri>', 's3:// prefix written by a run, e.g. fineTune.adapterUri or fineTune.tensorboardUri')
    .argument('<dir>', 'local folder to write')
    .action(async (uri: string, dir: string) => {
      if (!uri.startsWith('s3://')) throw new InputValidationError(`<uri>: expected an s3:// prefix, got ${JSON.stringify(uri)}`);
      const config = loadConfig();
      const { ArtifactStore } = await import('../../lib/artifacts');
      const { downloadDir } = await import('../../activities/gpu/s3-dirs');
      const manifest = await downloadDir(ArtifactStore.fromConfig(config), uri, dir).catch((err: Error) => {
        throw new InputValidationError(`model pull: ${err.message}`);
      });
      console.log(`${manifest.files.length} files → ${dir}`);
    });
  model
    .command('serve')
    .description('serve a base, merged or base+adapter model through an OpenAI-compatible API (for LLM_BASE_URL)')
    .requiredOption('--model <ref>', 'base or merged model: a folder, a Hub id, or an s3:// prefix (e.g. a run\'s model/merged/)')
    .option('--adapter <ref>', 'a LoRA adapter folder or s3:// prefix (a train run\'s fineTune.adapterUri) applied on --model')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port (0: any free port)', '8001')
    .option('--name <id>', 'the model id clients send as LLM_MODEL (default: the adapter\'s or model\'s folder name)')
    .option('--device <device>', 'auto, cpu or cuda', 'auto')
    .option('--max-new-tokens <n>', 'answer length when a request sets no max_tokens', '512')
    .option('--api-key-env <VAR>', 'require the bearer token held in this environment variable')
    .option('--restarts <n>', 'restarts after a crash', '3')
    .option('--json', 'print the server\'s events (listening, completion) as JSON lines')
    .action(async (flags: ModelServeFlags) => {
      const port = portFlag(flags.port);
      if (!['auto', 'cpu', 'cuda'].includes(flags.device)) throw new InputValidationError(`--device: expected auto, cpu or cuda, got ${JSON.stringify(flags.device)}`);
      const maxNewTokens = positiveInt('--max-new-tokens', flags.maxNewTokens);
      const restarts = positiveInt('--restarts', flags.restarts, 0);
      const config = loadConfig();
      const { loadTrainerSettings } = await import('../../activities/gpu/settings');
      const settings = loadTrainerSettings(config);
      // s3:// prefixes (what a train run returns) are copied once into the model cache, like the GPU worker does.
      const local = async (ref: string | undefined) => {
        if (!ref?.startsWith('s3://')) return ref;
        const { ArtifactStore } = await import('../../lib/artifacts');
        const { downloadModelPrefix } = await import('../../activities/gpu/shared');
        return downloadModelPrefix(ArtifactStore.fromConfig(config), ref, settings.modelCacheDir, config.resources);
      };
      const modelPath = (await local(flags.model))!;
      const adapterPath = await local(flags.adapter);
      const { superviseServer } = await import('./model-serve');
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await superviseServer({
          python: settings.python,
          trainerSrc: settings.trainerSrc,
          model: modelPath,
          adapter: adapterPath,
          host: flags.host,
          port,
          name: flags.name,
          device: flags.device as 'auto' | 'cpu' | 'cuda',
          maxNewTokens,
          apiKeyEnv: flags.apiKeyEnv,
          restarts,
          signal: controller.signal,
          onLog: (line) => console.error(line),
          onEvent: (ev) => {
            if (flags.json) {
              console.log(JSON.stringify(ev));
              return;
            }
            if (ev.event === 'listening') {
              console.log(`serving "${ev.model}" at ${ev.url} on ${ev.device} (context ${ev.context} tokens)`);
              console.log(`  answer with it: LLM_BASE_URL=${ev.url} LLM_MODEL=${ev.model} twinflow ask "..."`);
            } else if (ev.event === 'completion') {
              console.log(`${ev.id}: ${ev.prompt_tokens} prompt + ${ev.completion_tokens} completion tokens in ${ev.seconds}s${ev.stream ? ' (streamed)' : ''}`);
            }
          },
        });
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
