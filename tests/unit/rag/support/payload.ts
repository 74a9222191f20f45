/** A chunk payload for catalog and filter tests: every required field filled, the interesting ones overridden. */
import type { ChunkPayload } from '../../../../lib/vectorstore/types';

export function chunkPayload(p: Partial<ChunkPayload>): ChunkPayload {
  return {
    docId: 'd',
    chunkIndex: 0,
    parentId: 'p',
    sourceId: 'site',
    sourceType: 'web',
    location: 'x',
    tags: [],
    headingPath: '',
    chunkHash: 'h',
    contentHash: 'c',
    model: 'm',
    ...p,
  };
}
