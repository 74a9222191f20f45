/** `twinflow webhook serve`: the push endpoint for MinIO/S3 bucket notifications. */
import type { Command } from 'commander';
import { TwinflowClient } from '../../client';
import { loadConfig } from '../../lib/config';
import { syncInputSchema } from '../../lib/schemas/sync';
import { InputValidationError, parseInput } from '../../lib/schemas/validate';
import { startWebhookService } from '../../services/webhook';
import { listenError } from './serve';
import { collect } from '../shared/options';
import { loadSyncConfig } from './sync';

interface ServeFlags {
  config: string[];
  host?: string;
  port?: number;
  quietMs?: number;
  maxDelayMs?: number;
  idleMs?: number;
}

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InputValidationError(`expected a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
};

export function registerWebhookCommands(program: Command): void {
  const webhook = program.command('webhook').description('push: receive bucket notifications and sync what changed within seconds');
  webhook
    .command('serve')
    .description('serve POST /events (S3 event JSON, Authorization: Bearer TWINFLOW_WEBHOOK_SECRET); run `stack up` with the same secret')
    .requiredOption('-c, --config <file>', 'a collection\'s sync file with s3 sources (repeatable, one per collection)', collect, [])
    .option('--host <host>', 'listen address (default: TWINFLOW_WEBHOOK_HOST, 127.0.0.1)')
    .option('--port <port>', 'listen port (default: TWINFLOW_WEBHOOK_PORT, 8686)', int)
    .option('--quiet-ms <ms>', 'a burst ends after this long without events (default 2000)', int)
    .option('--max-delay-ms <ms>', 'sync a burst at the latest this long after its first event (default 30000)', int)
    .option('--idle-ms <ms>', 'the per-collection workflow ends after this long without events (default 300000)', int)
    .action(async (flags: ServeFlags) => {
      const config = loadConfig();
      if (!config.webhook.secret) throw new InputValidationError('set TWINFLOW_WEBHOOK_SECRET (at least 16 characters): MinIO sends it as "Authorization: Bearer <secret>"');
      const syncConfigs = flags.config.map((file) => parseInput(syncInputSchema, loadSyncConfig(file), `sync (${file})`));
      const client = await TwinflowClient.connect(config);
      const log = (line: string, fields?: Record<string, unknown>) => console.log(`${new Date().toISOString()} ${line}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
      const host = flags.host ?? config.webhook.host;
      const port = flags.port ?? config.webhook.port;
      const running = await startWebhookService({
        client,
        syncConfigs,
        secret: config.webhook.secret,
        host,
        port,
        rateLimitPerMinute: config.webhook.rateLimitPerMinute,
        debounce: { quietMs: flags.quietMs, maxDelayMs: flags.maxDelayMs, idleMs: flags.idleMs },
        log,
      }).catch(async (err: NodeJS.ErrnoException) => {
        await client.close();
        throw listenError(err, host, port, '--port or TWINFLOW_WEBHOOK_PORT');
      });
      log(`webhook listening on ${running.url}/events for ${running.router.prefixes().map((p) => `${p.bucket}/${p.prefix}`).join(', ')}`);
      const stop = async () => {
        await running.close();
        await client.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
