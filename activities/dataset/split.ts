/**
 * Deterministic, leak-free train/validation/test split. Examples are grouped (by `group`, else `source`, else `id`:
 * the split.groupBy field's value, the record or the document an example came from), groups are ordered by the hash
 * of (seed, group) and cut by the requested fractions, so all examples of a group land in the same split: pairs a
 * teacher wrote from one document, or reviews of one company, never straddle train and test. The same groups and
 * seed always give the same split, whatever the input order; adding examples moves few others. With one example per
 * group this is exactly the split by example id.
 */
import { sha256 } from '../../lib/hash';

export interface SplitFractions {
  validation: number;
  test: number;
  seed: number;
}

export interface Splits<T> {
  train: T[];
  validation: T[];
  test: T[];
}

export interface Splittable {
  id: string;
  source?: string;
  group?: string;
}

export function splitCounts(n: number, f: SplitFractions): { train: number; validation: number; test: number } {
  let test = Math.round(n * f.test);
  let validation = Math.round(n * f.validation);
  // Keep at least one example per requested split when there are enough, and at least one for training.
  if (f.test > 0 && test === 0 && n >= 3) test = 1;
  if (f.validation > 0 && validation === 0 && n >= 3) validation = 1;
  while (test + validation >= n && (test > 0 || validation > 0)) {
    if (validation >= test && validation > 0) validation -= 1;
    else test -= 1;
  }
  return { train: n - test - validation, validation, test };
}

/** The group an example is split with. */
export const groupKey = (it: Splittable): string => it.group ?? it.source ?? it.id;

/**
 * The value of a records field used as split.groupBy (dotted paths into nested records allowed), as a string;
 * undefined when the record lacks it.
 */
export function groupValue(record: Record<string, unknown>, field: string): string | undefined {
  let v: unknown = field in record ? record[field] : undefined;
  if (v === undefined) {
    v = record;
    for (const part of field.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  }
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return undefined;
  return typeof v === 'string' ? v.trim() : JSON.stringify(v);
}

export function splitExamples<T extends Splittable>(items: readonly T[], f: SplitFractions): Splits<T> & { groups: number } {
  const ids = new Set<string>();
  const groups = new Map<string, T[]>();
  for (const it of items) {
    if (ids.has(it.id)) throw new Error(`splitExamples: duplicate example id ${JSON.stringify(it.id)}`);
    ids.add(it.id);
    const g = groupKey(it);
    const list = groups.get(g);
    if (list) list.push(it);
    else groups.set(g, [it]);
  }
  const ordered = [...groups]
    .map(([g, members]) => ({ members, key: sha256(`${f.seed}:${g}`) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const c = splitCounts(items.length, f);
  const out: Splits<T> = { train: [], validation: [], test: [] };
  // Whole groups, in hash order. A group goes to test while test needs examples and taking it brings test closer to
  // its share (so one big group cannot swallow the split), else to validation by the same rule, else to train.
  // A group is never cut.
  const closer = (have: number, want: number, size: number) => have < want && size < 2 * (want - have);
  for (const { members } of ordered) {
    if (closer(out.test.length, c.test, members.length)) out.test.push(...members);
    else if (closer(out.validation.length, c.validation, members.length)) out.validation.push(...members);
    else out.train.push(...members);
  }
  // Never leave train empty while a held-out split has more than one group: give train the last group taken.
  if (out.train.length === 0 && ordered.length > 1) {
    const from = out.validation.length > 0 ? 'validation' : 'test';
    const last = groupKey(out[from].at(-1)!);
    out.train = out[from].filter((x) => groupKey(x) === last);
    out[from] = out[from].filter((x) => groupKey(x) !== last);
  }
  const byId = (a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return { test: out.test.sort(byId), validation: out.validation.sort(byId), train: out.train.sort(byId), groups: groups.size };
}
