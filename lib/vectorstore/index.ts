/** The vector store named by the configuration: embedded LanceDB (default) or a Qdrant server. */
import type { Config } from '../config';
import { LanceDBStore } from './lancedb';
import { QdrantStore } from './qdrant';
import type { VectorStore } from './types';

export function createVectorStore(config: Config): VectorStore {
  const { kind, lancedbUri, lancedbNprobes, qdrantUrl, qdrantApiKey } = config.vectorStore;
  if (kind === 'qdrant') {
    if (!qdrantUrl) throw new Error('VECTOR_STORE=qdrant needs QDRANT_URL (e.g. http://127.0.0.1:6333)');
    return new QdrantStore({ url: qdrantUrl, apiKey: qdrantApiKey });
  }
  return new LanceDBStore({ uri: lancedbUri, nprobes: lancedbNprobes });
}

export { LanceDBStore, type LanceDBStoreOptions } from './lancedb';
export { QdrantStore, type QdrantStoreOptions } from './qdrant';
export { alphaFusion, minMaxNormalize, reciprocalRankFusion, RRF_K } from './fusion';
export { FilterError, validateFilter } from './filter';
export { FILTER_FIELDS } from './types';
export type * from './types';
