/**
 * Malformed labelled data for the training pipeline: CSV/TSV files with an unterminated quote, a row with too few or
 * too many fields, a stray quote, a header naming a column twice, a missing required column, no rows at all, a file
 * that is not there. Each is one error naming the file, the line and the problem, raised before anything is written
 * (buildDataset reads the real files from disk; S3 is never reached).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDataset, DatasetInputError } from '../../../activities/dataset/build';
import { parseRecords, RecordsError } from '../../../activities/dataset/records';
import { ArtifactStore } from '../../../lib/artifacts';
import { loadConfig, PROJECT_ROOT } from '../../../lib/config';
import { testResourceEnv } from '../../harness/resources';
import { datasetSpecSchema } from '../../../lib/schemas/train';

let dir: string;
const HEADER = 'id,name,industry,city,size,founded,description,review,overall,culture,compensation,work_life_balance';
const ROW = (id: string) => `${id},Blue Harbor,logistics,Tampere,12 employees,1988,"A logistics company, in Tampere.","Friendly colleagues.\nFair pay.",4,4,5,3`;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-dataset-bad-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

/** The reviews example's spec (examples/reviews/train.json) over another file. */
function spec(uri: string) {
  return datasetSpecSchema.parse({
    name: 'reviews',
    source: {
      kind: 'records',
      uri,
      idField: 'id',
      template: { system: 'You review companies.', user: 'Review {{name}}: {{description}}', response: '{{review}}', ratingFields: { balance: 'work_life_balance' } },
    },
    format: { ratings: { keys: ['overall', 'culture', 'compensation', 'balance'] } },
  });
}

/** Runs the real dataset build up to its first error (no token counting, no S3 write happens before it). */
async function buildError(uri: string): Promise<Error> {
  // The records live in a temp folder and the repository: allowed explicitly, as a worker would (TWINFLOW_ALLOW_PATHS).
  const config = loadConfig(testResourceEnv());
  const err = await buildDataset({
    spec: spec(uri),
    tokenizer: 'unused',
    maxSeqLength: 4096,
    artifacts: ArtifactStore.fromConfig(config),
    config,
    lineage: {},
    tokenCounter: { source: 'none', templated: false, count: () => 1 } as never,
  }).then(
    () => new Error('the build succeeded'),
    (e: unknown) => e as Error,
  );
  return err;
}

describe('malformed CSV datasets', () => {
  it('names the line where an unterminated quoted field opens', () => {
    // Row c2's review opens a quote and never closes it: the rest of the file would be one field.
    const text = `${HEADER}\n${ROW('c1')}\nc2,Oak,retail,Oulu,5 employees,2001,"A shop in Oulu.","Nice people.\nGood pay.,3,3,3,3\n`;
    expect(() => parseRecords(text, 'csv', 'reviews.csv')).toThrow(
      new RecordsError('reviews.csv line 4: unterminated quoted field: the quote that opens it is never closed (the file ends inside it, at line 5)'),
    );
  });

  it('names the line and both counts of a row with too few or too many fields', () => {
    expect(() => parseRecords(`${HEADER}\n${ROW('c1')}\nc2,Oak,retail\n`, 'csv', 'reviews.csv')).toThrow(
      new RecordsError(`reviews.csv line 4: wrong column count: 3 field(s), but the header has 12 (${HEADER.split(',').join(', ')})`),
    );
    expect(() => parseRecords(`a,b\n1,2\n1,2,3\n`, 'csv', 'x.csv')).toThrow(new RecordsError('x.csv line 3: wrong column count: 3 field(s), but the header has 2 (a, b)'));
    expect(() => parseRecords(`a\tb\n1\t2\t3\n`, 'tsv', 'x.tsv')).toThrow(new RecordsError('x.tsv line 2: wrong column count: 3 field(s), but the header has 2 (a, b)'));
  });

  it('names the line of a quote in the middle of a quoted field', () => {
    expect(() => parseRecords('a,b\n1,"say "hi" twice"\n', 'csv', 'x.csv')).toThrow(
      new RecordsError('x.csv line 2: a quoted field is followed by "h" instead of a delimiter or the end of the line (a quote inside a quoted field is written "")'),
    );
  });

  it('refuses a header that names a column twice (the first column’s values would be lost)', () => {
    expect(() => parseRecords('review,rating,review\ngood,4,bad\n', 'csv', 'x.csv')).toThrow(new RecordsError('x.csv line 1: the header names column "review" twice'));
  });

  it('names every required column the header lacks and what uses it, once, instead of failing each record', async () => {
    const noReview = file('no-review.csv', `${HEADER.replace(',review,', ',text,').replace(',work_life_balance', ',balance_rating')}\n${ROW('c1')}\n`);
    const err = await buildError(noReview);
    expect(err).toBeInstanceOf(DatasetInputError);
    expect(err.message).toBe(
      `${noReview}: missing required columns "review" (used by source.template.response), "work_life_balance" (used by format.ratings.keys (balance)); ` +
        'the header has: id, name, industry, city, size, founded, description, text, overall, culture, compensation, balance_rating',
    );
  });

  it('says a file with a header and no rows, or nothing at all, holds no records', async () => {
    const headerOnly = file('header-only.csv', `${HEADER}\n`);
    expect((await buildError(headerOnly)).message).toBe(`source.uri: ${headerOnly} holds no records`);
    const empty = file('empty.csv', '');
    expect((await buildError(empty)).message).toBe(`source.uri: ${empty} holds no records`);
  });

  it('names a source file that does not exist', async () => {
    const missing = path.join(dir, 'nope.csv');
    const err = await buildError(missing);
    expect(err).toBeInstanceOf(RecordsError);
    expect(err.message).toBe(`source.uri: cannot read ${missing}: ENOENT`);
  });

  it('still reads the example CSV, quoted multi-line fields and all', () => {
    const csv = parseRecords(fs.readFileSync(path.join(PROJECT_ROOT, 'examples/reviews/companies.csv'), 'utf8'), 'csv', 'companies.csv');
    expect(csv).toHaveLength(60);
    expect(String(csv[0]!.review)).toContain('\n');
  });
});
