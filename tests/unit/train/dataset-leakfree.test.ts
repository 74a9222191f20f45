/**
 * Leak-free data: the grouped split never splits a group, n-gram decontamination finds a test sentence planted in
 * train, and the shipped example dataset goes through the real split and decontamination with no test sentence
 * verbatim in train.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decontaminationText, findContamination } from '../../../activities/dataset/decontaminate';
import { dedupeText, exactDedupe, nearDedupe, normalizeForDedupe } from '../../../activities/dataset/dedupe';
import { parseRecords } from '../../../activities/dataset/records';
import { groupKey, groupValue, splitExamples } from '../../../activities/dataset/split';
import { recordToExample } from '../../../activities/dataset/template';
import { datasetCard } from '../../../activities/dataset/card';
import { PROJECT_ROOT } from '../../../lib/config';
import { parseOutput } from '../../../lib/metrics/output-format';
import { type DatasetManifest, datasetSpecSchema, type Example, trainInputSchema } from '../../../lib/schemas/train';

const msg = (id: string, user: string, answer: string, extra: Partial<Example> = {}): Example => ({
  id,
  messages: [
    { role: 'user', content: user },
    { role: 'assistant', content: answer },
  ],
  ...extra,
});

describe('grouped split', () => {
  // 40 companies with 1 to 6 reviews each (the group is the company).
  const items: Example[] = [];
  for (let c = 0; c < 40; c += 1) for (let r = 0; r < 1 + (c % 6); r += 1) items.push(msg(`c${c}-r${r}`, `Review company ${c}`, `review ${r} of ${c}`, { group: `company-${c}` }));

  it('never splits a group, whatever the seed', () => {
    for (const seed of [1, 2, 3, 42, 1234]) {
      const s = splitExamples(items, { validation: 0.1, test: 0.2, seed });
      const where = new Map<string, Set<string>>();
      for (const [name, list] of Object.entries({ train: s.train, validation: s.validation, test: s.test })) {
        for (const e of list) where.set(groupKey(e), (where.get(groupKey(e)) ?? new Set()).add(name));
      }
      expect([...where.values()].filter((w) => w.size > 1)).toEqual([]);
      expect(s.groups).toBe(40);
      expect(s.train.length + s.validation.length + s.test.length).toBe(items.length);
      // Shares are met to within a group: no split is swallowed by one big group.
      expect(Math.abs(s.test.length - Math.round(items.length * 0.2))).toBeLessThanOrEqual(6);
      expect(s.train.length).toBeGreaterThan(items.length / 2);
    }
  });

  it('is deterministic and order-independent; without groups it is the split by example id', () => {
    const f = { validation: 0.1, test: 0.2, seed: 42 };
    expect(splitExamples([...items].reverse(), f)).toEqual(splitExamples(items, f));
    const singles = items.map(({ group: _g, ...e }) => e);
    const bySource = items.map(({ group: _g, ...e }) => ({ ...e, source: e.id }));
    expect(splitExamples(bySource, f).test.map((e) => e.id)).toEqual(splitExamples(singles, f).test.map((e) => e.id));
    // The source groups when no group is set: pairs of one document stay together.
    const docs = items.map(({ group, ...e }) => ({ ...e, source: group }));
    const s = splitExamples(docs, f);
    const testDocs = new Set(s.test.map((e) => e.source));
    expect(s.train.filter((e) => testDocs.has(e.source))).toEqual([]);
  });

  it('reads split.groupBy from a record field (dotted paths too)', () => {
    expect(groupValue({ company: 'Acme ' }, 'company')).toBe('Acme');
    expect(groupValue({ meta: { company: 7 } }, 'meta.company')).toBe('7');
    expect(groupValue({ company: '' }, 'company')).toBeUndefined();
    expect(datasetSpecSchema.parse({ name: 'x', source: { kind: 'records', uri: 'x.jsonl', template: { user: 'u', response: 'r' } }, split: { groupBy: 'company' } }).split.groupBy).toBe('company');
  });
});

describe('n-gram decontamination', () => {
  const format = { ratings: { keys: ['overall'], min: 1, max: 5, marker: 'Ratings:' } };
  const planted = 'The night shift at the harbour warehouse was cancelled for good after the strike in March.';
  const train = [
    msg('t1', 'Review Blue Harbor', `Drivers plan routes together.\n${planted}\n\nRatings: {"overall": 4}`),
    msg('t2', 'Review Iron Forge', 'Shifts are long in the shop.\n\nRatings: {"overall": 2}'),
  ];
  const test = [
    msg('x1', 'Review North Foods', `Pay is fair. ${planted.toUpperCase()} Nobody misses it.\n\nRatings: {"overall": 3}`),
    msg('x2', 'Review Clear Labs', 'Engineers pair a lot and review each other.\n\nRatings: {"overall": 4}'),
    // The same ratings line and short shared phrases are not contamination.
    msg('x3', 'Review Deep Systems', 'Shifts are long in the shop, as everywhere.\n\nRatings: {"overall": 2}'),
  ];

  it('detects and counts a test sentence planted verbatim in train (case and punctuation folded)', () => {
    const r = findContamination(train, test, { n: 13, format });
    expect(r.contaminated).toHaveLength(1);
    expect(r.contaminated[0]).toMatchObject({ id: 'x1', trainId: 't1' });
    expect(r.contaminated[0]!.ngram.split(' ')).toHaveLength(13);
    expect(r.contaminated[0]!.overlapping).toBe(normalizeForDedupe(planted).split(' ').length - 13 + 1);
    expect(r.clean.map((e) => e.id)).toEqual(['x2', 'x3']);
    // A shorter n also catches the shared phrase of x3; the ratings line is never compared.
    expect(findContamination(train, test, { n: 5, format }).contaminated.map((c) => c.id)).toEqual(['x1', 'x3']);
    expect(decontaminationText(test[2]!, format)).not.toContain('Ratings');
  });

  it('puts the counts on the dataset card', () => {
    const m = {
      name: 'reviews',
      version: 'v1',
      trainUri: 's3://b/train.jsonl',
      validationUri: 's3://b/validation.jsonl',
      testUri: 's3://b/test.jsonl',
      counts: { train: 2, validation: 0, test: 2 },
      format,
      spec: datasetSpecSchema.parse({ name: 'reviews', source: { kind: 'records', uri: 'x.jsonl', template: { user: 'u', response: 'r' } }, split: { groupBy: 'company' } }),
      stats: { input: 5, invalid: 0, exactDuplicates: 0, nearDuplicates: 0, tooLong: 0, kept: 4, splits: { train: 2, validation: 0, test: 2 }, groups: 4, decontamination: { n: 13, action: 'drop', contaminated: 1, dropped: 1, ids: ['x1'] }, tokens: { count: 0, min: null, max: null, mean: null, p50: null, p90: null, p95: null, p99: null }, tokenizer: 't' },
      lineage: { sourceUri: 'x.jsonl', sourceHash: 'ab'.repeat(32) },
    } as unknown as DatasetManifest;
    const card = datasetCard(m);
    expect(card).toContain('all examples with the same `company` land in one split (4 groups)');
    expect(card).toContain('test examples sharing any 13-word sequence with train');
    expect(card).toContain(': 1, dropped from the test split: x1.');
  });
});

// The two shipped example datasets, each with the config that trains on it: the reference run's companies (60 records,
// 2 exact and 2 near duplicates) and the tiny CPU example's reviews from notes (600 records, no duplicates).
describe.each([
  { config: 'train.json', records: 'companies.jsonl', writer: 'make_companies.py', count: 60, kept: 56 },
  { config: 'train-tiny-cpu.json', records: 'from-notes.jsonl', writer: 'make_from_notes.py', count: 600, kept: 600 },
])('the shipped example dataset $records', ({ config: configFile, records: recordsFile, writer, count, kept }) => {
  const config = trainInputSchema.parse(JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'examples/reviews', configFile), 'utf8')));
  const spec = config.dataset as Extract<typeof config.dataset, { source: unknown }>;
  const source = spec.source as Extract<typeof spec.source, { kind: 'records' }>;
  const records = parseRecords(fs.readFileSync(path.join(PROJECT_ROOT, 'examples/reviews', recordsFile), 'utf8'), 'jsonl', recordsFile);
  const examples = nearDedupe(exactDedupe(records.map((r) => recordToExample(r, source, spec.format)), dedupeText).kept, dedupeText, spec.dedupe).kept;
  const sentences = (e: Example) =>
    parseOutput(e.messages.at(-1)!.content, spec.format)
      .text.split(/(?<=[.!?])\s+|\n/)
      .map(normalizeForDedupe)
      .filter(Boolean);

  it('is the config\'s own records file', () => {
    expect(path.basename(source.uri)).toBe(recordsFile);
  });

  it.each([1, 7, 42, 99])('has no test sentence verbatim in train and nothing for decontamination to find (seed %i)', (seed) => {
    for (const f of [{ ...spec.split, seed }, { validation: 0.1, test: 0.1, seed }]) {
      const s = splitExamples(examples, f);
      expect(s.test.length).toBeGreaterThan(0);
      const trainSentences = new Set(s.train.flatMap(sentences));
      expect(s.test.flatMap(sentences).filter((t) => trainSentences.has(t))).toEqual([]);
      expect(findContamination(s.train, s.test, { n: spec.decontaminate.n, format: spec.format }).contaminated).toEqual([]);
    }
  });

  it(`is what ${writer} writes: ${count} records, ${kept} after deduplication, every review sentence of those unique`, () => {
    expect(records).toHaveLength(count);
    expect(examples).toHaveLength(kept);
    const all = examples.flatMap(sentences);
    expect(new Set(all).size).toBe(all.length);
  });
});
