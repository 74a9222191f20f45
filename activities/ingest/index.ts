/** Every activity of the feature pipeline (crawl, clean, dedupe, chunk, embed, load). */
import { createChunkActivities } from '../chunk';
import { createCleanActivities } from '../clean';
import { createCrawlActivities } from '../crawl';
import type { Deps } from '../deps';
import { createEmbedActivities } from '../embed';
import { createLoadActivities } from '../load';
import { createManifestActivities } from './manifest';

export function createIngestActivities(deps: Deps) {
  return {
    ...createCrawlActivities(deps),
    ...createCleanActivities(deps),
    ...createManifestActivities(deps),
    ...createChunkActivities(deps),
    ...createEmbedActivities(deps),
    ...createLoadActivities(deps),
  };
}

export type IngestActivities = ReturnType<typeof createIngestActivities>;
