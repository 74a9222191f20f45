/** `twinflow serve`: the retrieval HTTP API (POST /v1/search, POST /v1/ask, GET /openapi.json). */
import type { Command } from 'commander';
import { loadConfig } from '../../lib/config';
import { assertListenAllowed } from '../../lib/http/guard';
import { InputValidationError } from '../../lib/schemas/validate';

/** A --port value: an integer 0-65535 (0: any free port). */
export function portFlag(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n > 65535) throw new InputValidationError(`--port: expected a port number (0-65535), got ${JSON.stringify(value)}`);
  return n;
}

/** A listen failure as one line saying what to change (a busy port, an address this machine does not have). */
export function listenError(err: NodeJS.ErrnoException, host: string, port: number, setting: string): Error {
  if (err.code === 'EADDRINUSE') return new InputValidationError(`${host}:${port} is already in use: stop what listens there or choose another port (${setting})`);
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return new InputValidationError(`cannot listen on ${host}:${port}: ${err.code} (not an address of this machine)`);
  if (err.code === 'EACCES') return new InputValidationError(`cannot listen on ${host}:${port}: permission denied (ports below 1024 need privileges)`);
  return err;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the retrieval API: POST /v1/search, POST /v1/ask (streaming), GET /openapi.json')
    .option('--host <host>', 'address to listen on (default TWINFLOW_API_HOST, 127.0.0.1)')
    .option('--port <port>', 'port (default TWINFLOW_API_PORT, 8000)')
    .action(async (flags: { host?: string; port?: string }) => {
      const config = loadConfig();
      // Checked before the models load: a typo should not cost a model load to find out.
      const port = flags.port !== undefined ? portFlag(flags.port) : config.api.port;
      const host = flags.host ?? config.api.host;
      assertListenAllowed(host, config.api.token, 'twinflow serve', 'TWINFLOW_API_TOKEN');
      const { createRagFromConfig } = await import('../../rag/from-config');
      const { rag, summary, close } = await createRagFromConfig(config);
      const { startApi } = await import('../../rag/server');
      const api = await startApi(rag, { host, port, token: config.api.token, rateLimitPerMinute: config.api.rateLimitPerMinute, corsOrigins: config.api.corsOrigins, log: (l) => console.error(l) }).catch(async (err: NodeJS.ErrnoException) => {
        await close();
        throw listenError(err, host, port, '--port or TWINFLOW_API_PORT');
      });
      console.log(`twinflow API on ${api.url} (OpenAPI: ${api.url}/openapi.json)${config.api.token ? ', bearer token required' : ', no auth (set TWINFLOW_API_TOKEN to require one)'}`);
      for (const s of summary) console.log(`  ${s}`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await api.close();
      await close();
    });
}
