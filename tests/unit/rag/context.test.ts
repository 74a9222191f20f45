import { describe, expect, it } from 'vitest';
import { citedSources, scanCitations } from '../../../rag/citations';
import { selectUnits } from '../../../rag/compress';
import { joinUnits, splitUnits } from '../../../rag/sentences';

describe('splitUnits', () => {
  it('splits prose into sentences and keeps code blocks, tables and headings whole', () => {
    const md = [
      '# Fetch',
      '',
      'The Fetch API replaces XHR. It returns promises.',
      'It also streams bodies.',
      '',
      '```js',
      'fetch(url).then(r => r.json());',
      '',
      'console.log("done.");',
      '```',
      '',
      '| a | b |',
      '|---|---|',
      '| 1 | 2 |',
      '- one item. Still the item.',
      '- two',
    ].join('\n');
    const units = splitUnits(md);
    expect(units.map((u) => u.text)).toEqual([
      '# Fetch',
      'The Fetch API replaces XHR.',
      'It returns promises.',
      'It also streams bodies.',
      '```js\nfetch(url).then(r => r.json());\n\nconsole.log("done.");\n```',
      '| a | b |\n|---|---|\n| 1 | 2 |',
      '- one item.',
      'Still the item.',
      '- two',
    ]);
    // Sentences of one paragraph share a block; joining restores paragraphs.
    expect(joinUnits(units.slice(1, 4))).toBe('The Fetch API replaces XHR. It returns promises. It also streams bodies.');
    expect(joinUnits([units[0]!, units[2]!])).toBe('# Fetch\n\nIt returns promises.');
  });

  it('keeps an unterminated code fence to the end', () => {
    expect(splitUnits('Intro.\n```\ncode').map((u) => u.text)).toEqual(['Intro.', '```\ncode']);
  });
});

describe('selectUnits', () => {
  const u = (source: number, index: number, score: number, tokens: number) => ({ source, index, score, tokens });

  it('drops the lowest-scoring units until the budget holds', () => {
    const units = [u(0, 0, 0.9, 10), u(0, 1, 0.1, 10), u(1, 0, 0.5, 10), u(1, 1, 0.2, 10)];
    expect([...selectUnits(units, 5, 100)].sort()).toEqual(['0:0', '0:1', '1:0', '1:1']);
    expect([...selectUnits(units, 5, 30)].sort()).toEqual(['0:0', '1:0']);
    expect([...selectUnits(units, 5, 15)]).toEqual(['0:0']);
  });

  it('keeps the best unit even when nothing fits', () => {
    expect([...selectUnits([u(0, 0, 0.3, 50), u(0, 1, 0.7, 50)], 0, 10)]).toEqual(['0:1']);
  });
});

describe('citations', () => {
  it('reads single, adjacent, listed and ranged citations', () => {
    expect(scanCitations('A [2]. B [1][3]. C [1, 4]. D [2-3]. E [Source 4].', 4)).toEqual({ cited: [2, 1, 3, 4], invalid: [] });
  });

  it('reports numbers that name no source', () => {
    expect(scanCitations('see [7] and [0] and [1]', 3)).toEqual({ cited: [1], invalid: [7, 0] });
    // A year span in brackets is not a citation range.
    expect(scanCitations('in [2010-2015]', 3)).toEqual({ cited: [], invalid: [2010] });
  });

  it('maps citations to the sources cited only', () => {
    const sources = [1, 2, 3].map((n) => ({ n, title: `s${n}` }));
    expect(citedSources('Only [3] and [1].', sources).cited.map((s) => s.title)).toEqual(['s3', 's1']);
    expect(citedSources('No citations.', sources).cited).toEqual([]);
  });
});
