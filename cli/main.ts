/** The `twinflow` command line. */
import { Command } from 'commander';
import { ConfigError } from '../lib/config';
import { StackError } from '../infra/stack';
import { PrerequisiteError } from '../infra/binaries';
import { InputValidationError } from '../lib/schemas/validate';
import { registerStackCommands } from './commands/stack';
import { registerWorkerCommands } from './commands/worker';
import { registerDemoCommand } from './commands/demo';
import { registerIngestCommand } from './commands/ingest';
import { registerBundleCommand } from './commands/bundle';
import { registerSyncCommand } from './commands/sync';
import { registerScheduleCommands } from './commands/schedule';
import { registerWebhookCommands } from './commands/webhook';
import { registerTrainCommand } from './commands/train';
import { registerSearchCommand } from './commands/search';
import { registerAskCommand } from './commands/ask';
import { registerEvalCommands } from './commands/eval';
import { registerServeCommand } from './commands/serve';
import { registerCodecServerCommand } from './commands/codec-server';
import { registerRunsCommands } from './commands/runs';
import { registerModelCommands } from './commands/model';
import { reportFatal } from './follow';
import { OptionUnavailableError } from '../rag/options';
import { ignoreClosedChannelRetries } from '../client/closed-channel';
import { CollectionNotFoundError } from '../rag/retrieve';

const program = new Command();
program.name('twinflow').description('Durable Temporal pipelines for an LLM twin').showHelpAfterError().exitOverride();

registerStackCommands(program);
registerWorkerCommands(program);
registerDemoCommand(program);
registerIngestCommand(program);
registerBundleCommand(program);
registerSyncCommand(program);
registerScheduleCommands(program);
registerWebhookCommands(program);
registerTrainCommand(program);
registerSearchCommand(program);
registerAskCommand(program);
registerEvalCommands(program);
registerServeCommand(program);
registerCodecServerCommand(program);
registerRunsCommands(program);
registerModelCommands(program);

/** Expected errors (bad config, busy port, bad input) print one clear line, no stack trace (exit code 2). */
const EXPECTED = [ConfigError, StackError, PrerequisiteError, InputValidationError, OptionUnavailableError, CollectionNotFoundError];

ignoreClosedChannelRetries();

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Exit codes and the one-line report: cli/follow.ts (reportFatal), documented in docs/cli.md.
  process.exit(reportFatal(err, { expected: EXPECTED, json: process.argv.includes('--json') }));
}
