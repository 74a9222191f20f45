/** Deterministic test points (dimension 8) for the vector store contract and store-specific tests; no vitest here. */
import { pointIdFor } from '../../lib/hash';
import type { ChunkPayload, Point } from '../../lib/vectorstore/types';

export const DIM = 8;

/** A unit vector pointing mostly along `axis`, tilted a little towards `tilt` (so neighbours are ordered). */
export function vec(axis: number, tilt = (axis + 1) % DIM, amount = 0): number[] {
  const v = new Array<number>(DIM).fill(0);
  v[axis % DIM] = 1;
  v[tilt % DIM] = (v[tilt % DIM] ?? 0) + amount;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

export interface PointSpec {
  docId: string;
  chunkIndex?: number;
  text?: string;
  vector?: number[];
  payload?: Partial<ChunkPayload>;
}

export function makePoint(spec: PointSpec): Point {
  const chunkIndex = spec.chunkIndex ?? 0;
  return {
    id: pointIdFor(spec.docId, chunkIndex),
    vector: spec.vector ?? vec(0),
    text: spec.text ?? `chunk ${chunkIndex} of ${spec.docId}`,
    payload: {
      docId: spec.docId,
      chunkIndex,
      parentId: `${spec.docId}#p0`,
      sourceId: 'src-a',
      sourceType: 'web',
      location: `https://example.test/${encodeURIComponent(spec.docId)}`,
      tags: [],
      headingPath: 'Intro',
      chunkHash: `hash-${spec.docId}-${chunkIndex}`,
      contentHash: `content-${spec.docId}`,
      model: 'test-model',
      ...spec.payload,
    },
  };
}

