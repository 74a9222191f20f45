/** Collection and alias names, and the names of the tables/collections a store keeps beside a collection. */

/** Parents (small-to-big sections) of collection `x` live in `x__parents`. */
export const PARENTS_SUFFIX = '__parents';

export function parentsCollectionOf(collection: string): string {
  return `${collection}${PARENTS_SUFFIX}`;
}

export function isParentsCollection(name: string): boolean {
  return name.endsWith(PARENTS_SUFFIX);
}

/**
 * Names both stores accept and that are safe as file names: letters, digits, `_`, `-` and `.`, not starting with `.`
 * or `-`, at most 200 characters.
 */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$/;

export function validateName(kind: 'collection' | 'alias', name: string): void {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new Error(
      `Invalid ${kind} name ${JSON.stringify(name)}: use letters, digits, "_", "-" and "." (not first), at most 200 characters`,
    );
  }
  if (isParentsCollection(name)) throw new Error(`Invalid ${kind} name ${JSON.stringify(name)}: the suffix "${PARENTS_SUFFIX}" is reserved`);
}
