/**
 * HTML → Markdown with turndown and the GitHub-flavoured tables/strikethrough plugin. The rules added here keep what
 * a reader and a retriever need and drop what only a browser needs:
 * - headings as ATX (`## Title`), lists with `-`, emphasis, tables as GFM pipe tables;
 * - every <pre> as a fenced code block (turndown alone only handles <pre><code>), with its language taken from
 *   class="language-x" / "lang-x" / "highlight-source-x" / "brush: x" or data-lang when the page says it, and
 *   <br>-separated or one-<div>-per-line code kept line by line;
 * - links as inline links (URLs are made absolute before, by the caller), links without text dropped, fragment
 *   and javascript: links reduced to their text;
 * - images only when they point at an http(s) URL: data: URIs (inline blobs) and src-less images go;
 * - forms, scripts, embedded media and widgets go.
 *
 * Input is an HTML string: turndown parses it with its own DOM (domino), whose tables expose `rows`, which the GFM
 * table plugin needs (linkedom's do not).
 */
import TurndownService from 'turndown';
import { gfm } from '@joplin/turndown-plugin-gfm';
import { fenceFor } from './fences';

/** The subset of domino's node that the rules read. */
interface TdNode {
  nodeType: number;
  nodeName: string;
  nodeValue: string | null;
  childNodes: ArrayLike<TdNode>;
  parentNode: TdNode | null;
  getAttribute?(name: string): string | null;
}

const LANGUAGE_PATTERNS = [
  /(?:^|\s)(?:language|lang)-([\w#+.-]+)/i,
  /(?:^|\s)highlight-(?:text|source)-([\w#+.-]+)/i,
  /brush:\s*([\w#+.-]+)/i,
];

function attr(node: TdNode | null | undefined, name: string): string {
  return (node?.nodeType === 1 && node.getAttribute?.(name)) || '';
}

/** The code's language, from the <pre>, its first <code> child or a highlighter's wrapper <div>. */
export function codeLanguage(pre: TdNode): string {
  const code = Array.from(pre.childNodes).find((n) => n.nodeName === 'CODE');
  for (const node of [pre, code, pre.parentNode]) {
    const data = attr(node, 'data-lang') || attr(node, 'data-language');
    if (data && /^[\w#+.-]+$/.test(data)) return data.toLowerCase();
    const cls = attr(node, 'class');
    for (const pattern of LANGUAGE_PATTERNS) {
      const m = pattern.exec(cls);
      if (m) return m[1]!.toLowerCase();
    }
  }
  return '';
}

const LINE_BLOCKS = new Set(['DIV', 'P', 'LI', 'TR', 'TABLE', 'UL', 'OL', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6']);

/** The text of a code block, with <br> and block children (one per line in some highlighters) as line breaks. */
export function codeText(node: TdNode): string {
  let out = '';
  const walk = (n: TdNode): void => {
    if (n.nodeType === 3) out += n.nodeValue ?? '';
    else if (n.nodeType === 1) {
      if (n.nodeName === 'BR') {
        out += '\n';
        return;
      }
      const block = LINE_BLOCKS.has(n.nodeName);
      if (block && out !== '' && !out.endsWith('\n')) out += '\n';
      for (const child of Array.from(n.childNodes)) walk(child);
      if (block && !out.endsWith('\n')) out += '\n';
    }
  };
  walk(node);
  return out.replace(/^\n+|\s+$/g, '');
}

/** A link destination that Markdown will read back as one URL. */
function linkDestination(href: string): string {
  return href.trim().replace(/ /g, '%20').replace(/</g, '%3C').replace(/>/g, '%3E').replace(/([()])/g, '\\$1');
}

function createService(): TurndownService {
  const service = new TurndownService({
    headingStyle: 'atx',
    hr: '* * *',
    bulletListMarker: '-',
    codeBlockStyle: 'fenced',
    fence: '```',
    emDelimiter: '_',
    strongDelimiter: '**',
    linkStyle: 'inlined',
    // A <br> becomes a plain newline: the default two trailing spaces would be stripped by normalisation anyway.
    br: '',
  });
  service.use(gfm);
  service.remove([
    'script', 'style', 'noscript', 'template', 'iframe', 'object', 'embed', 'canvas', 'svg', 'video', 'audio',
    'button', 'input', 'select', 'textarea',
  ] as TurndownService.TagName[]);

  // Rules added later are tried first, so these take precedence over turndown's own.
  service.addRule('preAsFencedCode', {
    filter: (node) => (node as TdNode).nodeName === 'PRE',
    replacement: (_content, node) => {
      const code = codeText(node as TdNode);
      if (code.trim() === '') return '';
      const fence = fenceFor(code);
      return `\n\n${fence}${codeLanguage(node as TdNode)}\n${code}\n${fence}\n\n`;
    },
  });
  service.addRule('httpImagesOnly', {
    filter: 'img' as TurndownService.TagName,
    replacement: (_content, node) => {
      const src = attr(node as TdNode, 'src').trim();
      if (!/^https?:\/\//i.test(src)) return '';
      const alt = service.escape(attr(node as TdNode, 'alt').replace(/\s+/g, ' ').trim());
      return `![${alt}](${linkDestination(src)})`;
    },
  });
  service.addRule('meaningfulLinks', {
    filter: (node) => (node as TdNode).nodeName === 'A',
    replacement: (content, node) => {
      const text = content.replace(/\s*\n\s*/g, ' ').trim();
      if (text === '') return '';
      const href = attr(node as TdNode, 'href').trim();
      if (href === '' || href.startsWith('#') || /^javascript:/i.test(href)) return content;
      return `[${text}](${linkDestination(href)})`;
    },
  });
  return service;
}

let shared: TurndownService | undefined;

/**
 * Converts an HTML fragment to Markdown (not yet normalised). One service is reused: building it costs more than
 * converting a small page, and turndown keeps no state between calls with inlined links.
 */
export function htmlToMarkdown(html: string): string {
  shared ??= createService();
  return shared.turndown(html);
}
