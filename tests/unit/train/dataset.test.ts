import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dedupeText, exactDedupe, jaccard, lshParams, nearDedupe, shingles } from '../../../activities/dataset/dedupe';
import { detectFormat, parseRecords } from '../../../activities/dataset/records';
import { splitCounts, splitExamples } from '../../../activities/dataset/split';
import { recordToExample, renderTemplate, TemplateError } from '../../../activities/dataset/template';
import { textWindows } from '../../../activities/dataset/teacher';
import { loadConversationTokenCounter, readChatTemplate } from '../../../activities/dataset/tokens';
import { tokenStats } from '../../../activities/dataset/build';
import { PROJECT_ROOT } from '../../../lib/config';
import { parseOutput } from '../../../lib/metrics/output-format';
import { datasetSpecSchema, type Example } from '../../../lib/schemas/train';

const reviewsSpec = datasetSpecSchema.parse({
  name: 'reviews',
  source: {
    kind: 'records',
    uri: 'examples/reviews/companies.jsonl',
    idField: 'id',
    template: {
      system: 'You review companies as an employee would.',
      user: 'Review {{name}}: {{description}}',
      response: '{{review}}',
      ratingFields: { balance: 'work_life_balance' },
    },
  },
  format: { ratings: { keys: ['overall', 'culture', 'compensation', 'balance'] } },
});
const source = reviewsSpec.source as Extract<typeof reviewsSpec.source, { kind: 'records' }>;
const companies = parseRecords(fs.readFileSync(path.join(PROJECT_ROOT, 'examples/reviews/companies.jsonl'), 'utf8'), 'jsonl', 'companies.jsonl');

describe('records → chat examples', () => {
  it('reads JSON Lines and CSV (quoted multi-line fields) to the same records', () => {
    const csv = parseRecords(fs.readFileSync(path.join(PROJECT_ROOT, 'examples/reviews/companies.csv'), 'utf8'), 'csv', 'companies.csv');
    expect(companies).toHaveLength(60);
    expect(csv).toHaveLength(60);
    expect(csv[0]!.review).toBe(companies[0]!.review);
    expect(String(csv[0]!.overall)).toBe(String(companies[0]!.overall));
    expect(detectFormat('s3://b/x.CSV', 'auto')).toBe('csv');
    expect(detectFormat('x.tsv', 'auto')).toBe('tsv');
    expect(detectFormat('x.json', 'auto')).toBe('jsonl');
  });

  it('names the line of a malformed JSON record', () => {
    expect(() => parseRecords('{"a":1}\n{oops}\n', 'jsonl', 'f.jsonl')).toThrow('f.jsonl line 2: not valid JSON');
  });

  it('maps a record to system + user + assistant in the fixed output format', () => {
    const e = recordToExample(companies[0]!, source, reviewsSpec.format);
    expect(e.id).toBe('c001');
    expect(e.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
    expect(e.messages[1]!.content).toBe(`Review Blue Harbor 1: ${companies[0]!.description}`);
    const parsed = parseOutput(e.messages[2]!.content, reviewsSpec.format);
    expect(parsed).toMatchObject({ compliant: true, text: companies[0]!.review, ratings: { overall: 4, culture: 4, compensation: 5, balance: 3 } });
  });

  it('rejects a record with a missing field or a rating off the scale, naming it', () => {
    expect(() => renderTemplate('Hi {{ person.name }}', { person: {} })).toThrow(new TemplateError('field "person.name" is missing or empty'));
    expect(renderTemplate('Hi {{ person.name }}', { person: { name: 'Ada' } })).toBe('Hi Ada');
    expect(() => recordToExample({ ...companies[0]!, culture: 9 }, source, reviewsSpec.format)).toThrow('rating "culture" = 9 is outside 1..5');
    expect(() => recordToExample({ ...companies[0]!, overall: 'good' }, source, reviewsSpec.format)).toThrow(/rating "overall" is not a number/);
  });
});

describe('deduplication', () => {
  const examples = companies.map((r) => recordToExample(r, source, reviewsSpec.format));

  it('removes the exact duplicates of the example data (case and punctuation folded)', () => {
    const r = exactDedupe(examples, dedupeText);
    expect(r.removed.map((e) => e.id)).toEqual(['c057', 'c058']);
    const folded = exactDedupe(['Hello, World!', 'hello world', 'hello there'], (s) => s);
    expect(folded.kept).toEqual(['Hello, World!', 'hello there']);
  });

  it('removes near-duplicates and keeps the first of each cluster, deterministically', () => {
    const afterExact = exactDedupe(examples, dedupeText).kept;
    const opts = { threshold: 0.8, shingleSize: 3, numPermutations: 128 };
    const r = nearDedupe(afterExact, dedupeText, opts);
    expect(r.removed.map((x) => [x.item.id, x.duplicateOf.id])).toEqual([
      ['c059', 'c021'],
      ['c060', 'c031'],
    ]);
    for (const x of r.removed) expect(x.similarity).toBeGreaterThanOrEqual(0.8);
    // Different companies with the same ratings share their review sentences but are not near-duplicates.
    expect(r.kept).toHaveLength(56);
    expect(nearDedupe(afterExact, dedupeText, opts).removed.map((x) => x.item.id)).toEqual(['c059', 'c060']);
  });

  it('finds a pair only when its Jaccard similarity reaches the threshold', () => {
    const base = 'the quick brown fox jumps over the lazy dog and runs far away into the green forest at dawn';
    const near = base.replace('dawn', 'dusk');
    const far = 'completely different words about temporal workflows and durable activities on task queues';
    expect(jaccard(shingles(base, 3), shingles(near, 3))).toBeGreaterThan(0.8);
    const r = nearDedupe([base, near, far], (s) => s, { threshold: 0.8, shingleSize: 3, numPermutations: 128 });
    expect(r.kept).toEqual([base, far]);
    const strict = nearDedupe([base, near], (s) => s, { threshold: 0.99, shingleSize: 3, numPermutations: 128 });
    expect(strict.kept).toHaveLength(2);
  });

  it('chooses LSH bands whose threshold is just below the Jaccard threshold', () => {
    const { bands, rows } = lshParams(128, 0.8);
    expect(bands * rows).toBe(128);
    expect((1 / bands) ** (1 / rows)).toBeLessThanOrEqual(0.8);
  });
});

describe('deterministic split', () => {
  const items: Example[] = Array.from({ length: 100 }, (_, i) => ({
    id: `e${i}`,
    messages: [
      { role: 'user', content: `q${i}` },
      { role: 'assistant', content: `a${i}` },
    ],
  }));
  const f = { validation: 0.1, test: 0.2, seed: 42 };

  it('gives the same split for the same seed whatever the input order, and another for another seed', () => {
    const a = splitExamples(items, f);
    const b = splitExamples([...items].reverse(), f);
    expect(b).toEqual(a);
    expect([a.train.length, a.validation.length, a.test.length]).toEqual([70, 10, 20]);
    const c = splitExamples(items, { ...f, seed: 7 });
    expect(c.test.map((e) => e.id)).not.toEqual(a.test.map((e) => e.id));
  });

  it('puts every example in exactly one split', () => {
    const a = splitExamples(items, f);
    const ids = [...a.train, ...a.validation, ...a.test].map((e) => e.id);
    expect(new Set(ids).size).toBe(100);
    const train = new Set(a.train.map((e) => e.id));
    expect(a.test.filter((e) => train.has(e.id))).toEqual([]);
  });

  it('keeps at least one example for training and one per requested split', () => {
    expect(splitCounts(3, { validation: 0.1, test: 0.1, seed: 1 })).toEqual({ train: 1, validation: 1, test: 1 });
    expect(splitCounts(1, { validation: 0.5, test: 0.5, seed: 1 })).toEqual({ train: 1, validation: 0, test: 0 });
    expect(() => splitExamples([items[0]!, items[0]!], f)).toThrow(/duplicate example id/);
  });
});

describe('token lengths', () => {
  const minilm = path.join(PROJECT_ROOT, '.twinflow', 'models', 'all-MiniLM-L6-v2');

  it('counts with the chat template when there is one, else contents plus a role allowance', async () => {
    const messages = [
      { role: 'user' as const, content: 'hello world' },
      { role: 'assistant' as const, content: 'hi there' },
    ];
    const plain = await loadConversationTokenCounter(minilm);
    expect(plain.templated).toBe(false);
    expect(plain.count(messages)).toBe(1 + (2 + 6) + (2 + 6));
    const templated = await loadConversationTokenCounter(minilm, { chatTemplate: '{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}' });
    expect(templated.templated).toBe(true);
    expect(templated.count(messages)).toBe(8); // "user : hello world assistant : hi there" in BERT word pieces
  });

  it('reads a chat template from tokenizer_config.json or chat_template.jinja', () => {
    const dir = fs.mkdtempSync(path.join(PROJECT_ROOT, '.twinflow', 'tmp-tpl-'));
    try {
      fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ bos_token: { content: '<s>' }, eos_token: '</s>' }));
      expect(readChatTemplate(dir)).toBeUndefined();
      fs.writeFileSync(path.join(dir, 'chat_template.jinja'), '{{ bos_token }}x');
      expect(readChatTemplate(dir)).toEqual({ template: '{{ bos_token }}x', bos: '<s>', eos: '</s>' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('summarises lengths with percentiles', () => {
    expect(tokenStats([10, 20, 30, 40])).toMatchObject({ count: 4, min: 10, max: 40, mean: 25, p50: 25 });
    expect(tokenStats([])).toMatchObject({ count: 0, min: null, p99: null });
  });
});

describe('teacher windows', () => {
  it('cuts documents on paragraph boundaries within the size limit', () => {
    const doc = ['a'.repeat(300), 'b'.repeat(300), 'c'.repeat(700)].join('\n\n');
    const w = textWindows(doc, 650);
    expect(w.map((x) => x.length)).toEqual([602, 650, 50]);
  });
});
