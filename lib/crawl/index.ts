/**
 * The Crawl step's sources, free of Temporal: `createSource(config).crawl({ resumeAfter, signal })` yields one
 * outcome per location (a RawDocument, or a skip/failure report) in a deterministic order.
 */
import { type SourceConfig, type SourceConfigInput, sourceConfigSchema } from '../schemas/sources';
import { formatZodError } from '../schemas/validate';
import type { NetworkPolicy } from '../security/network';
import type { ResourcePolicy } from '../security/resources';
import { FolderSource } from './folder';
import { GitSource, type GitSourceDeps } from './git';
import { S3Source, type S3SourceDeps } from './s3';
import type { Source } from './types';
import { WebSource, type WebSourceDeps } from './web/web-source';

export type { CrawlOptions, CrawlOutcome, CrawlProgress, CrawlReason, CrawlResult, Source } from './types';
export { canonicalUrl } from './canonical-url';
export { WebSource } from './web/web-source';
export { GitSource } from './git';
export { FolderSource } from './folder';
export { S3Source, s3DocId, s3Location, type S3SourceDeps } from './s3';

export interface SourceDeps {
  web?: WebSourceDeps;
  git?: GitSourceDeps;
  /** The S3 client the s3 inbox source reads with (the activities pass the artifact store's). */
  s3?: S3SourceDeps;
  /**
   * What input may read on this worker (folders, file:// repositories, buckets); default: loadConfig().resources of
   * this process. The crawl activity passes the worker's.
   */
  resources?: ResourcePolicy;
  /**
   * Which addresses web pages and git remotes may be at (lib/security/network.ts); default: this process's
   * TWINFLOW_ALLOW_NETWORKS. The crawl activity passes the worker's.
   */
  network?: NetworkPolicy;
}

export class InvalidSourceConfigError extends Error {
  override name = 'InvalidSourceConfigError';
}

/** A source for a config (validated here, so defaults apply to a plain JSON config too). */
export function createSource(config: SourceConfig | SourceConfigInput, deps: SourceDeps = {}): Source {
  const parsed = sourceConfigSchema.safeParse(config);
  if (!parsed.success) throw new InvalidSourceConfigError(`invalid source config: ${formatZodError(parsed.error)}`);
  const c = parsed.data;
  switch (c.type) {
    case 'web':
      return new WebSource(c, { network: deps.network, ...deps.web });
    case 'git':
      return new GitSource(c, { resources: deps.resources, network: deps.network, ...deps.git });
    case 'folder':
      return new FolderSource(c, { resources: deps.resources });
    case 's3':
      if (!deps.s3) throw new InvalidSourceConfigError(`source "${c.id}": an s3 source needs an S3 client (SourceDeps.s3)`);
      return new S3Source(c, { resources: deps.resources, ...deps.s3 });
  }
}
