/**
 * vitest globalSetup of `npm run test:cluster`: brings the cluster profile up exactly as `twinflow stack up
 * --profile cluster` does (PostgreSQL, schemas, Temporal server, namespace and search attributes, MinIO, bundle,
 * two CPU workers and a GPU worker), on the rehearsal's ports. The workers embed through an OpenAI-compatible
 * endpoint on 127.0.0.1 (tests/helpers/openai-server.ts: deterministic vectors) so that the rehearsal measures the
 * orchestration, not two shared cores running a model; the GPU worker trains the tiny model on CPU.
 * The cluster stays up afterwards when TWINFLOW_KEEP_CLUSTER=1.
 */
import fs from 'node:fs';
import path from 'node:path';
import { clusterDown, clusterUp } from '../../infra/cluster';
import { recordedNames, stopProcess } from '../../infra/processes';
import { startOpenAIServer } from '../helpers/openai-server';
import { CLUSTER_DIR, clusterOptions } from './cluster-env';

export const REHEARSAL_ENV_FILE = path.join(CLUSTER_DIR, 'rehearsal-env.json');

export default async function setup(): Promise<() => Promise<void>> {
  const log = (l: string) => process.stderr.write(`[cluster] ${l}\n`);
  const embed = await startOpenAIServer({ dimension: 16, delayMs: 5 });
  const extra = { EMBEDDING_PROVIDER: 'openai', EMBEDDING_BASE_URL: embed.baseUrl, EMBEDDING_BATCH_SIZE: '64' };
  const o = clusterOptions(extra);
  // Workers left by an earlier run embed through an endpoint that is gone: they start afresh.
  for (const name of recordedNames(o.dir).filter((n) => n.startsWith('worker-'))) await stopProcess(o.dir, name, 5_000);
  await clusterUp(o, log);
  fs.writeFileSync(REHEARSAL_ENV_FILE, JSON.stringify(extra));
  return async () => {
    if (!process.env.TWINFLOW_KEEP_CLUSTER) await clusterDown(o, log);
    await embed.close();
  };
}
