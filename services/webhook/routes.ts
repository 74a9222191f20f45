/**
 * Which collection and source an object event belongs to: every s3 source of every configured collection whose
 * bucket and prefix contain the key (and whose include/exclude globs accept it). A key can feed several collections.
 */
import { pathFilter, type PathFilter } from '../../lib/crawl/path-filter';
import type { SyncParams } from '../../lib/schemas/sync';
import type { ObjectEvent } from './events';

interface Route {
  collection: string;
  sourceId: string;
  bucket: string;
  prefix: string;
  filter: PathFilter;
}

/** collection → sourceId → keys (deduplicated, in arrival order). */
export type RoutedEvents = Map<string, Map<string, string[]>>;

export class EventRouter {
  private readonly routes: Route[] = [];
  readonly configs = new Map<string, SyncParams>();

  constructor(configs: SyncParams[], defaultBucket: string) {
    for (const config of configs) {
      if (this.configs.has(config.collection)) throw new Error(`collection ${config.collection} is configured twice`);
      this.configs.set(config.collection, config);
      for (const s of config.sources) {
        if (s.type !== 's3') continue;
        this.routes.push({ collection: config.collection, sourceId: s.id, bucket: s.bucket ?? defaultBucket, prefix: s.prefix, filter: pathFilter(s.include, s.exclude) });
      }
    }
    if (this.routes.length === 0) throw new Error('no s3 source in the configuration: the webhook has nothing to route events to');
  }

  /** What the webhook listens for, e.g. for `stack up`'s notification configuration. */
  prefixes(): Array<{ bucket: string; prefix: string }> {
    return this.routes.map(({ bucket, prefix }) => ({ bucket, prefix }));
  }

  route(events: ObjectEvent[]): { routed: RoutedEvents; unmatched: number } {
    const routed: RoutedEvents = new Map();
    let unmatched = 0;
    for (const e of events) {
      let matched = false;
      for (const r of this.routes) {
        if (r.bucket !== e.bucket || !e.key.startsWith(r.prefix)) continue;
        const rel = e.key.slice(r.prefix.length).replace(/^\/+/, '');
        if (!r.filter.included(rel) || r.filter.excludedBy(rel)) continue;
        matched = true;
        let bySource = routed.get(r.collection);
        if (!bySource) routed.set(r.collection, (bySource = new Map()));
        const keys = bySource.get(r.sourceId) ?? [];
        if (!keys.includes(e.key)) keys.push(e.key);
        bySource.set(r.sourceId, keys);
      }
      if (!matched) unmatched += 1;
    }
    return { routed, unmatched };
  }
}
