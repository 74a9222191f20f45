/**
 * `twinflow webhook serve`: the push endpoint wired to Temporal. Each accepted bucket event signals-with-start the
 * debouncing `syncOnEvents` workflow of its collection, which then runs the same `sync` as the nightly pull.
 */
import type { TwinflowClient } from '../../client';
import type { SyncParams } from '../../lib/schemas/sync';
import { assertListenAllowed } from '../../lib/http/guard';
import { EventRouter } from './routes';
import { createWebhookApp, type RunningWebhook, serveWebhook } from './server';

export { parseNotification, decodeEventKey, MalformedEventError, type ObjectEvent } from './events';
export { EventRouter } from './routes';
export { createWebhookApp, serveWebhook, authorized, type Dispatch, type RunningWebhook } from './server';

export interface DebounceSettings {
  quietMs?: number;
  maxDelayMs?: number;
  idleMs?: number;
  maxKeysPerSync?: number;
}

export interface WebhookServiceOptions {
  client: TwinflowClient;
  /** One sync configuration per collection (the same files as `twinflow sync` and the schedule). */
  syncConfigs: SyncParams[];
  secret: string;
  host: string;
  port: number;
  rateLimitPerMinute?: number;
  debounce?: DebounceSettings;
  taskQueue?: string;
  log?: (line: string, fields?: Record<string, unknown>) => void;
}

export async function startWebhookService(o: WebhookServiceOptions): Promise<RunningWebhook & { router: EventRouter }> {
  // The secret is required (createWebhookApp refuses without one), so this holds on any address; kept explicit.
  assertListenAllowed(o.host, o.secret, 'twinflow webhook serve', 'TWINFLOW_WEBHOOK_SECRET');
  const router = new EventRouter(o.syncConfigs, o.client.config.s3.bucket);
  const app = createWebhookApp({
    secret: o.secret,
    router,
    log: o.log,
    rateLimitPerMinute: o.rateLimitPerMinute,
    dispatch: async (collection, sourceId, keys) => {
      const sync = router.configs.get(collection)!;
      await o.client.notifyObjectsChanged({ sync, ...o.debounce }, { sourceId, keys }, { taskQueue: o.taskQueue });
    },
  });
  const running = await serveWebhook(app, o.host, o.port);
  return { ...running, router };
}
