/**
 * What a reader sees of a Markdown text: the words without the syntax (heading marks, list bullets, emphasis, link
 * targets, image URLs, table pipes, fences, HTML tags). The too-short filter measures this, so a page that is all
 * links or an empty table does not pass for content.
 */
import { classifyLines } from './fences';

/** Inline Markdown to plain text: link and image targets, inline HTML, escapes and emphasis/code marks removed. */
export function inlineMarkdownToText(text: string): string {
  return text
    .replace(/!\[([^\]]*)\]\((?:\\\)|[^)])*\)/g, '$1') // images: keep the alt text
    .replace(/\[([^\]]*)\]\((?:\\\)|[^)])*\)/g, '$1') // links: keep the text
    .replace(/<[^>]+>/g, ' ') // inline HTML tags
    .replace(/(`+)([^`]*?)\1/g, '$2') // code spans
    .replace(/(\*\*|__)(?=\S)(.*?\S)\1/g, '$2') // strong
    .replace(/\*(?=\S)([^*]*?\S)\*/g, '$1') // emphasis
    .replace(/(^|\W)_(?=\S)([^_]*?\S)_(?!\w)/g, '$1$2') // emphasis, but not snake_case
    .replace(/~~(?=\S)(.*?\S)~~/g, '$1') // strikethrough
    .replace(/\\([\\`*_{}[\]()#+\-.!|<>~])/g, '$1'); // backslash escapes
}

function lineText(line: string): string {
  const withoutBlockSyntax = line
    .replace(/^\s{0,3}#{1,6}\s+/, '') // heading marks
    .replace(/\s#+\s*$/, '')
    .replace(/^\s*(?:>\s*)+/, '') // quotes
    .replace(/^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?/, '') // list items and task boxes
    .replace(/^\s*\|?(?:\s*:?-{3,}:?\s*\|)+\s*:?-*:?\s*$/, '') // table separator rows
    .replace(/^\s*(?:[-*_]\s*){3,}$/, ''); // thematic breaks
  return inlineMarkdownToText(withoutBlockSyntax).replace(/\|/g, ' '); // table pipes
}

/** The visible text of a Markdown document, whitespace collapsed. Code inside fences counts as text. */
export function visibleText(markdown: string): string {
  const lines = markdown.split('\n');
  const kinds = classifyLines(lines);
  const parts: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const kind = kinds[i]!;
    if (kind === 'open' || kind === 'close') continue;
    parts.push(kind === 'code' ? lines[i]! : lineText(lines[i]!));
  }
  return parts.join(' ').replace(/\s+/g, ' ').trim();
}

export interface TextSize {
  /** Characters of visible text (whitespace runs count as one). */
  chars: number;
  /** Whitespace-separated words; a CJK ideograph counts as a word, since those scripts do not use spaces. */
  words: number;
}

export function measureText(markdown: string): TextSize {
  const text = visibleText(markdown);
  if (text === '') return { chars: 0, words: 0 };
  const cjk = text.match(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/gu)?.length ?? 0;
  const spaced = text.replace(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/gu, ' ').split(/\s+/).filter(Boolean).length;
  return { chars: text.length, words: spaced + cjk };
}
