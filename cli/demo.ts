/**
 * The demo: the feature pipeline end to end on the local stack. It brings the stack up (installing it the first
 * time), runs a CPU worker in this process, ingests three kinds of sources — a website crawled through its sitemap
 * (examples/site served on localhost), this repository as a git source, and the docs/ folder — into the embedded
 * vector store, then searches it. Everything it did stays visible in the Temporal Web UI and the MinIO console.
 */
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createDeps } from '../activities/deps';
import { createRagFromConfig } from '../rag';
import { TwinflowClient } from '../client';
import { stackOptionsFromConfig, stackUp } from '../infra/stack';
import { loadConfig, PROJECT_ROOT } from '../lib/config';
import type { IngestInput } from '../lib/schemas/ingest';
import { connectWorker, createWorker } from '../workers/worker';
import { formatProgress, formatResult, watch } from './commands/ingest';
import { startDemoSite } from './demo-site';

export const DEMO_COLLECTION = 'demo';
export const DEMO_QUERIES = ['How does the async task framework execute tasks at least once?', 'What should a good alert do in site reliability engineering?'];

export async function runDemo(): Promise<void> {
  const config = loadConfig();
  console.log('==> local stack');
  await stackUp(stackOptionsFromConfig(config), (l) => console.log(`    ${l}`));

  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: ['SIGINT', 'SIGTERM'] });
  const site = await startDemoSite();
  console.log(`==> demo website: ${site.baseUrl} (${site.pages.length} pages, sitemap, robots.txt)`);

  const connection = await connectWorker(config);
  const deps = createDeps(config);
  const worker = await createWorker({
    config,
    connection,
    taskQueue: config.temporal.taskQueue,
    activities: createActivities(deps),
    maxConcurrentActivities: config.temporal.maxConcurrentActivities,
    withWorkflows: true,
  });
  const client = await TwinflowClient.connect(config);
  const input: IngestInput = {
    collection: DEMO_COLLECTION,
    sources: [
      { type: 'web', id: 'demo-site', sitemaps: [`${site.baseUrl}/sitemap.xml`] },
      { type: 'git', id: 'twinflow-repo', url: `file://${PROJECT_ROOT}`, include: ['README.md', 'docs/**/*.md'] },
      { type: 'folder', id: 'docs', path: path.join(PROJECT_ROOT, 'docs') },
    ],
  } as IngestInput;
  try {
    await worker.runUntil(async () => {
      console.log('==> ingest: crawl → clean → chunk → embed → load');
      const handle = await client.startIngest(input, { workflowId: `demo-ingest-${Date.now()}` });
      console.log(`    workflow: ${client.uiUrl(handle.workflowId)}`);
      const result = await watch(async () => formatProgress(await client.ingestProgress(handle.workflowId)), handle.result());
      console.log(formatResult(result).replace(/^/gm, '    '));

      console.log('==> retrieval: hybrid search (BM25 + vector, RRF) over the collection');
      const { rag, close } = await createRagFromConfig(config, { store: await deps.vectorStore(), embedder: await deps.cachedEmbedder() });
      for (const query of DEMO_QUERIES) {
        const { hits } = await rag.search({ query, collections: [DEMO_COLLECTION], limit: 3 });
        console.log(`    "${query}"`);
        for (const h of hits) console.log(`      ${h.score.toFixed(3)}  ${h.payload.title ?? h.payload.location}  › ${h.payload.headingPath || '(top)'}  (${h.payload.sourceType})`);
      }
      const answer = await rag.ask({ question: DEMO_QUERIES[0]!, collections: [DEMO_COLLECTION] });
      console.log(`==> ask: ${answer.generated ? answer.answer : `${answer.message} (${answer.sources.length} sources)`}`);
      await close();
    });
  } finally {
    await client.close();
    await connection.close();
    await site.close();
  }
  console.log(`\nTemporal Web UI: http://127.0.0.1:${config.stack.temporalUiPort}   MinIO console: http://127.0.0.1:${config.stack.minioConsolePort} (minioadmin / minioadmin)`);
  console.log('Stop the stack with: make down');
}
