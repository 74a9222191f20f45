/** Checks of a request's arguments that both stores make, with the same words, before they touch their backend. */
import { validateName } from './names';
import type { CollectionSpec } from './types';

export function checkLimit(limit: number, what = 'limit'): void {
  if (!Number.isInteger(limit) || limit <= 0) throw new Error(`Invalid ${what} ${limit}: expected a positive integer`);
}

/** The collection's name and spec as ensureCollection accepts them: a positive integer dimension, cosine distance. */
export function checkCollectionSpec(name: string, spec: CollectionSpec): void {
  validateName('collection', name);
  if (!Number.isInteger(spec.dimension) || spec.dimension <= 0) throw new Error(`Invalid dimension ${spec.dimension} for "${name}": expected a positive integer`);
  if (spec.distance !== 'cosine') throw new Error(`Unsupported distance "${String(spec.distance)}" for "${name}": only cosine`);
}
