/**
 * Splits Markdown context into units that prompt compression keeps or drops whole: sentences of prose, list items,
 * headings, and fenced code blocks and tables as single units (dropping half a code block or a table helps nobody).
 */

export interface Unit {
  text: string;
  /** Index of the block (paragraph, list item, code block...) the unit belongs to. */
  block: number;
}

const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

function splitSentences(paragraph: string): string[] {
  return [...segmenter.segment(paragraph)].map((s) => s.segment.trim()).filter(Boolean);
}

export function splitUnits(markdown: string): Unit[] {
  const units: Unit[] = [];
  let block = 0;
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  let paragraph: string[] = [];
  const flushParagraph = () => {
    const text = paragraph.join(' ').replace(/\s+/g, ' ').trim();
    paragraph = [];
    if (!text) return;
    for (const s of splitSentences(text)) units.push({ text: s, block });
    block++;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = /^\s*(```+|~~~+)/.exec(line);
    if (fence) {
      flushParagraph();
      const start = i;
      const close = fence[1]!;
      for (i++; i < lines.length; i++) {
        if (lines[i]!.trim().startsWith(close)) break;
      }
      i = Math.min(i, lines.length - 1);
      units.push({ text: lines.slice(start, i + 1).join('\n'), block: block++ });
      continue;
    }
    if (/^\s*\|/.test(line)) {
      flushParagraph();
      const start = i;
      while (i + 1 < lines.length && /^\s*\|/.test(lines[i + 1]!)) i++;
      units.push({ text: lines.slice(start, i + 1).join('\n'), block: block++ });
      continue;
    }
    if (/^\s*$/.test(line)) {
      flushParagraph();
      continue;
    }
    if (/^\s*(#{1,6}\s|[-*+]\s|\d+[.)]\s|>\s?)/.test(line)) {
      // Headings, list items and quotes start their own block; a list item's sentences stay together with it.
      flushParagraph();
      paragraph.push(line.trim());
      if (/^\s*#{1,6}\s/.test(line)) flushParagraph();
      continue;
    }
    paragraph.push(line.trim());
  }
  flushParagraph();
  return units;
}

export function joinUnits(units: readonly Unit[]): string {
  let out = '';
  let last: number | undefined;
  for (const u of units) {
    if (last !== undefined) out += u.block === last ? ' ' : '\n\n';
    out += u.text;
    last = u.block;
  }
  return out;
}
