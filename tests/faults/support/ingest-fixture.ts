/**
 * The set-up the ingest fault tests share (worker-kill, infrastructure): the corpus site, an OpenAI-compatible
 * embedding endpoint on 127.0.0.1 (a deterministic embedding, 60 ms per request of 16 texts, so that embedding takes
 * long enough to be hit without loading the 2 cores), a client of the fault stack, and the worker processes a test
 * starts, killed at the end. Call it at the top of a test file: it registers the file's beforeAll and afterAll.
 */
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll } from 'vitest';
import type { WorkerProcess } from '../../harness/fault-worker';
import { type OpenAIServer, startOpenAIServer } from '../../helpers/openai-server';
import { type CorpusSite, startCorpusSite } from './corpus';
import { connectClient } from './temporal';

export interface IngestFaultFixture {
  /** Set by the fixture's beforeAll. */
  site: CorpusSite;
  embed: OpenAIServer;
  client: Client;
  /** Worker processes the test started: killed first at teardown. */
  workers: WorkerProcess[];
  /** A worker's environment: LanceDB at `lancedb`, embedding through the endpoint, 4 activity slots. */
  env(lancedb: string): Record<string, string>;
}

/** `afterWorkers` runs at teardown once the workers are dead, before the client, endpoint and site close. */
export function ingestFaultFixture(o: { afterWorkers?: () => Promise<void> | void } = {}): IngestFaultFixture {
  let closeClient: (() => Promise<void>) | undefined;
  const fx = {
    workers: [] as WorkerProcess[],
    env: (lancedb: string): Record<string, string> => ({
      LANCEDB_URI: lancedb,
      EMBEDDING_PROVIDER: 'openai',
      EMBEDDING_BASE_URL: fx.embed.baseUrl,
      EMBEDDING_BATCH_SIZE: '16',
      TWINFLOW_MAX_CONCURRENT_ACTIVITIES: '4',
    }),
  } as IngestFaultFixture;

  beforeAll(async () => {
    fx.site = await startCorpusSite();
    fx.embed = await startOpenAIServer({ dimension: 16, delayMs: 60 });
    ({ client: fx.client, close: closeClient } = await connectClient());
  });

  afterAll(async () => {
    for (const w of fx.workers) await w.kill();
    await o.afterWorkers?.();
    await closeClient?.();
    await fx.embed?.close();
    await fx.site?.close();
  });

  return fx;
}
