/** `twinflow serve`: the retrieval HTTP API (POST /v1/search, POST /v1/ask, GET /openapi.json). */
import type { Command } from 'commander';
import { loadConfig } from '../../lib/config';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the retrieval API: POST /v1/search, POST /v1/ask (streaming), GET /openapi.json')
    .option('--host <host>', 'address to listen on (default TWINFLOW_API_HOST, 127.0.0.1)')
    .option('--port <port>', 'port (default TWINFLOW_API_PORT, 8000)')
    .action(async (flags: { host?: string; port?: string }) => {
      const config = loadConfig();
      const { createRagFromConfig } = await import('../../rag/from-config');
      const { rag, summary, close } = await createRagFromConfig(config);
      const { startApi } = await import('../../rag/server');
      const api = await startApi(rag, {
        host: flags.host ?? config.api.host,
        port: flags.port !== undefined ? Number(flags.port) : config.api.port,
        token: config.api.token,
        log: (l) => console.error(l),
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
