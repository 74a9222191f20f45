/**
 * The block structure of a Markdown document, with character offsets: headings (ATX and setext), fenced code blocks
 * and text blocks (paragraphs, lists, tables, quotes: anything up to the next blank line), then the sections the
 * headings delimit. The chunker splits at these boundaries first.
 */
import { classifyLines } from './fences';
import { inlineMarkdownToText } from './visible-text';

export type BlockKind = 'heading' | 'code' | 'text';

export interface Block {
  kind: BlockKind;
  /** Offset of the first non-blank character. */
  start: number;
  /** Offset just after the last non-blank character. */
  end: number;
  /** Heading level (1-6), for headings. */
  level?: number;
  /** Heading text without Markdown syntax, for headings. */
  heading?: string;
}

export interface Section {
  start: number;
  end: number;
  /** Texts of the enclosing headings, outermost first, this section's own heading last. */
  headingPath: string[];
  blocks: Block[];
}

const ATX_HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)[ \t]*$/;
/** Lines that start a list, table, quote or HTML block: a `---` under them is a thematic break, not a heading. */
const NOT_SETEXT_TEXT = /^\s*(?:[-*+>|<]|\d+[.)]\s)/;

function headingText(raw: string): string {
  return inlineMarkdownToText(raw).replace(/\s+/g, ' ').trim();
}

export function parseBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const kinds = classifyLines(lines);
  const starts: number[] = [];
  let offset = 0;
  for (const line of lines) {
    starts.push(offset);
    offset += line.length + 1;
  }
  const lineStart = (i: number): number => starts[i]! + (lines[i]!.length - lines[i]!.trimStart().length);
  const lineEnd = (i: number): number => starts[i]! + lines[i]!.trimEnd().length;
  const blank = (i: number): boolean => lines[i]!.trim() === '';

  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    if (kinds[i] === 'open') {
      let j = i;
      while (j + 1 < lines.length && (kinds[j + 1] === 'code' || kinds[j + 1] === 'close')) {
        j++;
        if (kinds[j] === 'close') break;
      }
      // Trailing blank code lines of an unclosed fence are not part of the block's text span.
      let last = j;
      while (last > i && blank(last)) last--;
      blocks.push({ kind: 'code', start: lineStart(i), end: lineEnd(last) });
      i = j + 1;
      continue;
    }
    if (blank(i)) {
      i++;
      continue;
    }
    const atx = ATX_HEADING.exec(lines[i]!);
    if (atx) {
      blocks.push({ kind: 'heading', start: lineStart(i), end: lineEnd(i), level: atx[1]!.length, heading: headingText(atx[2] ?? '') });
      i++;
      continue;
    }
    // A text block: up to a blank line, a heading or a code fence. A setext underline turns it into a heading.
    let j = i;
    let underline: RegExpExecArray | null = null;
    for (;;) {
      const next = j + 1;
      if (next >= lines.length || kinds[next] !== 'text' || blank(next) || ATX_HEADING.test(lines[next]!)) break;
      underline = SETEXT_UNDERLINE.exec(lines[next]!);
      if (underline && !lines.slice(i, next).some((l) => NOT_SETEXT_TEXT.test(l))) break;
      underline = null;
      j = next;
    }
    if (underline) {
      const text = lines.slice(i, j + 1).map((l) => l.trim()).join(' ');
      blocks.push({ kind: 'heading', start: lineStart(i), end: lineEnd(j + 1), level: underline[1]![0] === '=' ? 1 : 2, heading: headingText(text) });
      i = j + 2;
    } else {
      blocks.push({ kind: 'text', start: lineStart(i), end: lineEnd(j) });
      i = j + 1;
    }
  }
  return blocks;
}

/**
 * Sections: each heading starts one, holding the blocks up to the next heading; text before the first heading is a
 * section with an empty heading path. A heading with no content of its own (a chapter title directly followed by its
 * first sub-heading) joins the next section rather than becoming a chunk of one line; a trailing one joins the
 * previous section.
 */
export function splitSections(blocks: readonly Block[]): Section[] {
  const sections: Section[] = [];
  const stack: { level: number; text: string }[] = [];
  let current: Section | undefined;
  for (const block of blocks) {
    if (block.kind === 'heading') {
      while (stack.length > 0 && stack[stack.length - 1]!.level >= block.level!) stack.pop();
      stack.push({ level: block.level!, text: block.heading! });
      current = { start: block.start, end: block.end, headingPath: stack.map((h) => h.text).filter((t) => t !== ''), blocks: [block] };
      sections.push(current);
    } else {
      if (!current) {
        current = { start: block.start, end: block.end, headingPath: [], blocks: [] };
        sections.push(current);
      }
      current.blocks.push(block);
      current.end = block.end;
    }
  }
  const merged: Section[] = [];
  let pending: Section | undefined;
  for (const section of sections) {
    const headingOnly = section.blocks.every((b) => b.kind === 'heading');
    if (pending) {
      section.start = pending.start;
      section.blocks = [...pending.blocks, ...section.blocks];
      pending = undefined;
    }
    if (headingOnly && section !== sections[sections.length - 1]) pending = section;
    else merged.push(section);
  }
  // A heading-only section at the very end: append it to the previous section, if there is one.
  const last = merged[merged.length - 1];
  if (last && merged.length > 1 && last.blocks.every((b) => b.kind === 'heading')) {
    merged.pop();
    const previous = merged[merged.length - 1]!;
    previous.end = last.end;
    previous.blocks.push(...last.blocks);
  }
  return merged;
}
