/**
 * The Qdrant store against a real Qdrant server. No server can be installed on the development machines, so this
 * runs only where QDRANT_URL is set (docker-compose provides one: `QDRANT_URL=http://127.0.0.1:6333`).
 */
import { describe } from 'vitest';
import { QdrantStore } from '../../../lib/vectorstore/qdrant';
import { runVectorStoreContract } from '../../contract/vectorstore.contract';

const url = process.env.QDRANT_URL;

describe.skipIf(!url)('QdrantStore (QDRANT_URL)', () => {
  const scrollPageSize = 5;
  runVectorStoreContract('qdrant', () => new QdrantStore({ url: url as string, apiKey: process.env.QDRANT_API_KEY, scrollPageSize }), { scrollPageSize });
});
