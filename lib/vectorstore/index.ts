/** The vector store named by the configuration: embedded LanceDB (default) or a Qdrant server. */
import type { Config } from '../config';
import { LanceDBStore } from './lancedb';
import { isRemoteUri } from './lancedb-aliases';
import { QdrantStore } from './qdrant';
import type { VectorStore } from './types';

export function createVectorStore(config: Config): VectorStore {
  const { kind, lancedbUri, lancedbNprobes, qdrantUrl, qdrantApiKey } = config.vectorStore;
  if (kind === 'qdrant') {
    if (!qdrantUrl) throw new Error('VECTOR_STORE=qdrant needs QDRANT_URL (e.g. http://127.0.0.1:6333)');
    return new QdrantStore({ url: qdrantUrl, apiKey: qdrantApiKey });
  }
  return new LanceDBStore({ uri: lancedbUri, nprobes: lancedbNprobes, storageOptions: isRemoteUri(lancedbUri) ? storageOptionsFor(config.s3) : undefined });
}

/**
 * LanceDB's object-store settings for a database on S3 (LANCEDB_URI=s3://bucket/prefix): the same endpoint and
 * credentials as the artifact store (S3_ENDPOINT, AWS_ACCESS_KEY_ID, ...), so MinIO works as well as AWS S3.
 */
export function storageOptionsFor(s3: Config['s3']): Record<string, string> {
  return {
    ...(s3.endpoint && { aws_endpoint: s3.endpoint }),
    ...(s3.region && { aws_region: s3.region }),
    ...(s3.accessKeyId && { aws_access_key_id: s3.accessKeyId, aws_secret_access_key: s3.secretAccessKey }),
    allow_http: String(s3.endpoint?.startsWith('http://') ?? false),
    aws_virtual_hosted_style_request: String(!s3.forcePathStyle),
  };
}

export { LanceDBStore, type LanceDBStoreOptions } from './lancedb';
export { QdrantStore, type QdrantStoreOptions } from './qdrant';
export { alphaFusion, minMaxNormalize, reciprocalRankFusion, RRF_K } from './fusion';
export { FilterError, validateFilter } from './filter';
export { FILTER_FIELDS } from './types';
export type * from './types';
