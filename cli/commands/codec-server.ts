/**
 * `twinflow codec-server`: the Temporal codec server for the payload codec (lib/codec), so the Web UI shows decrypted
 * inputs and results to those who can reach it. Point the UI at it: its "Codec Server" setting (data encoder), or the
 * dev server's `--ui-codec-endpoint http://127.0.0.1:8234`, or `temporal workflow show --codec-endpoint ...`.
 */
import type { Command } from 'commander';
import { payloadCodec } from '../../lib/codec';
import { loadConfig } from '../../lib/config';
import { assertListenAllowed } from '../../lib/http/guard';
import { InputValidationError } from '../../lib/schemas/validate';
import { listenError, portFlag } from './serve';

export function registerCodecServerCommand(program: Command): void {
  program
    .command('codec-server')
    .description('serve POST /encode and /decode (the Temporal codec server protocol) so the Web UI shows decrypted payloads (TWINFLOW_CODEC_KEYS)')
    .option('--host <host>', 'address to listen on (default TWINFLOW_CODEC_HOST, 127.0.0.1)')
    .option('--port <port>', 'port (default TWINFLOW_CODEC_PORT, 8234)')
    .option('--cors-origin <origin>', 'the Web UI origin browsers call from (default TWINFLOW_CODEC_CORS_ORIGIN, else the origin of TEMPORAL_UI_URL)')
    .action(async (flags: { host?: string; port?: string; corsOrigin?: string }) => {
      const config = loadConfig();
      const codec = payloadCodec(config);
      if (!codec) throw new InputValidationError('payload encryption is off: set TWINFLOW_CODEC_KEYS (id:base64key pairs, the same value as the workers and clients) to serve its codec');
      const server = config.codec.server;
      const host = flags.host ?? server.host;
      const port = flags.port !== undefined ? portFlag(flags.port) : server.port;
      let corsOrigin = server.corsOrigin;
      if (flags.corsOrigin !== undefined) {
        try {
          corsOrigin = new URL(flags.corsOrigin).origin;
        } catch {
          throw new InputValidationError(`--cors-origin: expected an origin such as http://127.0.0.1:8233, got ${JSON.stringify(flags.corsOrigin)}`);
        }
      }
      assertListenAllowed(host, server.token, 'twinflow codec-server', 'TWINFLOW_CODEC_TOKEN');
      const { startCodecServer } = await import('../../lib/codec/server');
      const running = await startCodecServer({
        codec,
        namespace: config.temporal.namespace,
        corsOrigin,
        token: server.token,
        rateLimitPerMinute: server.rateLimitPerMinute,
        host,
        port,
        log: (l) => console.error(l),
      }).catch((err: NodeJS.ErrnoException) => {
        throw listenError(err, host, port, '--port or TWINFLOW_CODEC_PORT');
      });
      console.log(
        `twinflow codec server on ${running.url} (namespace ${config.temporal.namespace}, key ${codec.keyId}, CORS for ${corsOrigin}${server.token ? ', bearer token required' : ''}); ` +
          `set it as the Web UI's codec endpoint, or start the dev server with --ui-codec-endpoint ${running.url}`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await running.close();
    });
}
