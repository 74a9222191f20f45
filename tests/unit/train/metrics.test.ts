import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../lib/config';
import { formatInstructions, formatOutput, parseOutput } from '../../../lib/metrics/output-format';
import { porterStem } from '../../../lib/metrics/porter';
import { mean, percentile, regressionErrors } from '../../../lib/metrics/regression';
import { rougeL, rougeLsum, rougeTokenize } from '../../../lib/metrics/rouge';
import { outputFormatSchema } from '../../../lib/schemas/train';

const fixture = (p: string) => fs.readFileSync(path.join(PROJECT_ROOT, p), 'utf8');

describe('Porter stemmer (NLTK_EXTENSIONS, as rouge-score uses it)', () => {
  const pairs = fixture('tests/unit/train/fixtures/porter-nltk.tsv')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t') as [string, string]);

  it('stems every word of a 21k-word vocabulary exactly like nltk.stem.porter.PorterStemmer', () => {
    expect(pairs.length).toBeGreaterThan(20_000);
    const mismatches = pairs.filter(([w, s]) => porterStem(w) !== s).map(([w, s]) => `${w}: want ${s}, got ${porterStem(w)}`);
    expect(mismatches.slice(0, 20)).toEqual([]);
  });

  it('applies NLTK-only rules that the original algorithm lacks', () => {
    expect(porterStem('dying')).toBe('die');
    expect(porterStem('skies')).toBe('sky');
    expect(porterStem('ties')).toBe('tie');
    expect(porterStem('generously')).toBe('gener');
    expect(porterStem('running')).toBe('run');
  });

  it('handles a long run of y without blowing the stack', () => {
    expect(porterStem('y'.repeat(50_000)).length).toBeGreaterThan(0);
  });
});

describe('ROUGE-Lsum parity with rouge-score', () => {
  interface Case {
    id: string;
    reference: string;
    prediction: string;
    use_stemmer: boolean;
    rougeLsum: { precision: number; recall: number; fmeasure: number };
  }
  const cases = fixture('tests/fixtures/rouge/rougelsum-pairs.jsonl')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Case);

  it('has at least 250 cases with both stemmer settings', () => {
    expect(cases.length).toBeGreaterThanOrEqual(250);
    expect(cases.some((c) => c.use_stemmer)).toBe(true);
    expect(cases.some((c) => !c.use_stemmer)).toBe(true);
  });

  it('matches precision, recall and F-measure of every case to 1e-6', () => {
    const bad: string[] = [];
    for (const c of cases) {
      const got = rougeLsum(c.reference, c.prediction, { useStemmer: c.use_stemmer });
      for (const k of ['precision', 'recall', 'fmeasure'] as const) {
        if (Math.abs(got[k] - c.rougeLsum[k]) > 1e-6) bad.push(`${c.id} ${k}: want ${c.rougeLsum[k]}, got ${got[k]}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('tokenizes like rouge-score: lowercase, non-alphanumerics split, stem only tokens longer than 3', () => {
    expect(rougeTokenize("The runner's café-style RUNS!", false)).toEqual(['the', 'runner', 's', 'caf', 'style', 'runs']);
    expect(rougeTokenize('The runners runs', true)).toEqual(['the', 'runner', 'run']);
    expect(rougeTokenize('ties', true)).toEqual(['tie']);
  });

  it('splits sentences on newlines only: the same words on one line or two score differently', () => {
    // Values checked with rouge_score 0.1.2: the union LCS lets each predicted line match a different part.
    expect(rougeLsum('a b c d', 'c d\na b').fmeasure).toBe(1);
    expect(rougeLsum('a b c d', 'c d a b').fmeasure).toBeCloseTo(0.5, 12);
    expect(rougeL('a b c d', 'c d\na b').fmeasure).toBeCloseTo(0.5, 12);
  });

  it('scores empty texts as zero', () => {
    expect(rougeLsum('', 'x')).toEqual({ precision: 0, recall: 0, fmeasure: 0 });
    expect(rougeLsum('x', '  \n ')).toEqual({ precision: 0, recall: 0, fmeasure: 0 });
  });
});

describe('ratings errors', () => {
  it('computes RMSE and MAE', () => {
    const e = regressionErrors([
      [4, 5],
      [3, 3],
      [1, 3],
    ]);
    expect(e.count).toBe(3);
    expect(e.rmse).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(e.mae).toBeCloseTo(1, 12);
    expect(regressionErrors([])).toEqual({ count: 0, rmse: null, mae: null });
  });

  it('percentiles interpolate like numpy', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10], 90)).toBe(10);
    expect(percentile([0, 10], 95)).toBeCloseTo(9.5, 12);
    expect(mean([1, 2])).toBe(1.5);
  });
});

describe('output format (text + ratings)', () => {
  const format = outputFormatSchema.parse({ ratings: { keys: ['overall', 'culture'] } });

  it('round-trips a review with ratings', () => {
    const out = formatOutput('  Great place.\nGood pay.  ', { culture: 4, overall: 5 }, format);
    expect(out).toBe('Great place.\nGood pay.\n\nRatings: {"overall":5,"culture":4}');
    expect(parseOutput(out, format)).toEqual({ text: 'Great place.\nGood pay.', ratings: { overall: 5, culture: 4 }, compliant: true, problem: undefined, missing: [] });
  });

  it('reports what is wrong with a malformed output', () => {
    expect(parseOutput('Just text', format)).toMatchObject({ text: 'Just text', compliant: false, problem: 'no "Ratings:" line' });
    // A truncated object keeps the ratings it does give; a value off the scale is not a rating (docs/training.md).
    expect(parseOutput('T\nRatings: {"overall": 5', format)).toMatchObject({ text: 'T', ratings: { overall: 5 }, compliant: false, problem: 'culture missing' });
    const off = parseOutput('T\nRatings: {"overall": 9}', format);
    expect(off).toMatchObject({ compliant: false, problem: 'overall 9 outside 1..5, culture missing', missing: ['overall', 'culture'] });
    expect(off.ratings).toBeUndefined();
  });

  it('takes the last ratings line and tells baselines the format', () => {
    expect(parseOutput('Ratings: are great\nRatings: {"overall":1,"culture":2}', format).ratings).toEqual({ overall: 1, culture: 2 });
    expect(formatInstructions(format)).toContain('"Ratings:"');
    expect(formatInstructions(outputFormatSchema.parse({}))).toBeUndefined();
  });

  it('refuses to format missing ratings', () => {
    expect(() => formatOutput('x', { overall: 3 }, format)).toThrow(/culture/);
  });
});
