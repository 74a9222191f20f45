/**
 * Main-content extraction from a web page: Mozilla's Readability (Firefox's reader view) running on linkedom, then
 * HTML → Markdown. Readability drops navigation, sidebars, comments, share bars, cookie banners and ads by scoring
 * the page's blocks; what is left is the article a reader sees.
 *
 * linkedom has no notion of the page's address, so the document is given the page URL and its <base> explicitly:
 * Readability then rewrites every link and image to an absolute URL the way a browser resolves them.
 */
import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import type { DomDocument, DomElement } from './dom';
import { htmlToMarkdown } from './html-to-markdown';
import { readPageMetadata, tidy, type PageMetadata } from './html-metadata';

export interface HtmlExtraction {
  /** Markdown of the main content, not yet normalised. */
  markdown: string;
  metadata: PageMetadata;
  /** False when Readability found no article and the whole <body> was converted instead. */
  readerView: boolean;
}

function resolveUrl(href: string | undefined, base: string | undefined): string | undefined {
  if (!href) return base;
  try {
    return new URL(href, base).href;
  } catch {
    return base;
  }
}

/**
 * Gives the document its address: documentURI is the page, baseURI the page resolved against <base href>.
 * Readability reads both to make links absolute (and to leave in-page #fragment links alone).
 */
function setDocumentAddress(doc: DomDocument, pageUrl: string | undefined): void {
  const baseHref = doc.querySelector('base[href]')?.getAttribute('href')?.trim();
  const baseUri = resolveUrl(baseHref, pageUrl);
  Object.defineProperty(doc, 'documentURI', { value: pageUrl, configurable: true });
  Object.defineProperty(doc, 'baseURI', { value: baseUri, configurable: true });
}

/**
 * Page furniture that Readability's scoring sometimes keeps because it sits inside the article's container: comment
 * threads and reply forms (WordPress, Drupal, Disqus, Facebook), consent and cookie banners, navigation. Matched by the
 * ids and classes those systems use (never by class "comment" alone: code highlighters mark code comments with it).
 */
const BOILERPLATE = [
  '#comments', '#comment-list', '.comment-list', '.commentlist', '.comments-area', '#respond', '.comment-respond',
  '[id^="comment-"]', '#disqus_thread', '.fb_comments_wrapper', '.fb-comments',
  '[id*="cookie-banner" i]', '[class*="cookie-banner" i]', '[id*="cookie-consent" i]', '[class*="cookie-consent" i]',
  '[id*="cookie-notice" i]', '[class*="cookie-notice" i]', '#onetrust-consent-sdk', '#CybotCookiebotDialog', '.cc-window',
  'nav', '[role="navigation"]',
].join(', ');

function removeBoilerplate(doc: DomDocument): void {
  for (const el of Array.from(doc.querySelectorAll(BOILERPLATE))) el.remove();
}

const CELL_BLOCKS = 'ul, ol, h1, h2, h3, h4, h5, h6, hr, blockquote, pre';

/**
 * GFM table cells hold inline content only; the table plugin keeps any table whose cells hold lists, headings,
 * rules, quotes or code blocks as raw HTML. Data tables (no nested tables) get those blocks flattened into inline
 * content instead (list items separated by <br>, headings as bold), so they still become Markdown tables. Layout
 * tables (tables of tables) are left alone: the plugin renders their cells as ordinary blocks.
 */
function flattenTableCells(root: DomElement, doc: DomDocument): void {
  for (const table of Array.from(root.querySelectorAll('table'))) {
    if (table.querySelector('table')) continue;
    // Innermost first, so a nested list is flattened before the list that holds it.
    const blocks = Array.from(table.querySelectorAll(CELL_BLOCKS)).reverse();
    for (const block of blocks) {
      const tag = block.tagName.toUpperCase();
      if (tag === 'HR') {
        block.remove();
      } else if (tag === 'UL' || tag === 'OL') {
        const span = doc.createElement('span');
        const items = Array.from(block.childNodes).filter((n) => n.nodeName === 'LI') as DomElement[];
        items.forEach((li, i) => {
          if (i > 0) span.appendChild(doc.createElement('br'));
          span.appendChild(doc.createTextNode(tag === 'OL' ? `${i + 1}) ` : '• '));
          for (const child of Array.from(li.childNodes)) span.appendChild(child);
        });
        block.replaceWith(span);
      } else if (tag === 'PRE') {
        const code = doc.createElement('code');
        code.textContent = (block.textContent ?? '').replace(/\s*\n\s*/g, ' ').trim();
        block.replaceWith(code);
      } else {
        const wrapper = doc.createElement(tag === 'BLOCKQUOTE' ? 'span' : 'strong');
        for (const child of Array.from(block.childNodes)) wrapper.appendChild(child);
        block.replaceWith(wrapper);
      }
    }
  }
}

/**
 * Comments, scripts, style sheets, inline SVG and inert templates, matched left to right the way the HTML tokenizer
 * meets them (a "<script" inside a comment is part of the comment, a "<!--" inside a script part of the script).
 * None of them reaches the Markdown (Readability drops scripts and styles, the converter drops SVG); removing them
 * before parsing roughly halves the DOM of a modern page and the time spent on it.
 */
const NOT_CONTENT =
  /<!--[\s\S]*?-->|<script\b([^>]*)>[\s\S]*?<\/script\s*>|<style\b[^>]*>[\s\S]*?<\/style\s*>|<svg\b[^>]*>[\s\S]*?<\/svg\s*>|<template\b[^>]*>[\s\S]*?<\/template\s*>/gi;

function dropNonContent(html: string): string {
  // JSON-LD scripts stay: they carry the metadata (author, dates) read below.
  return html.replace(NOT_CONTENT, (match, scriptAttributes: string | undefined) =>
    scriptAttributes !== undefined && /application\/ld\+json/i.test(scriptAttributes) ? match : '',
  );
}

/**
 * Deeper than this, a page is refused before Readability sees it. Readability's time grows about with the cube of the
 * DOM's depth (measured: 3,000 nested elements, 34 KB, took 51 s; 5,000 took 211 s), all of it synchronous, so one
 * such page would hold the worker past its heartbeat timeout and fail its whole part. Real articles nest a few dozen
 * levels; a page this deep is a broken export or an attack.
 */
export const MAX_DOM_DEPTH = 1000;

/** The depth of the deepest element, walked iteratively (a recursive walk would overflow the stack first). */
function domDepthOver(root: DomElement | null | undefined, limit: number): number | undefined {
  const stack: Array<[DomElement, number]> = root ? [[root, 1]] : [];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > limit) return depth;
    for (let child = node.firstElementChild; child; child = child.nextElementSibling) stack.push([child, depth + 1]);
  }
  return undefined;
}

export function extractHtml(html: string, pageUrl?: string): HtmlExtraction {
  const { document } = parseHTML(dropNonContent(html)) as unknown as { document: DomDocument };
  const deep = domDepthOver(document.documentElement, MAX_DOM_DEPTH);
  if (deep !== undefined) throw new Error(`the page nests elements more than ${MAX_DOM_DEPTH} levels deep (at least ${deep}): too deep to extract in reasonable time`);
  // Meta tags and JSON-LD first: Readability removes the <script> elements that hold JSON-LD.
  const pageMeta = readPageMetadata(document);
  setDocumentAddress(document, pageUrl);
  removeBoilerplate(document);

  const reader = new Readability<DomElement>(document as never, {
    // Classes carry the code blocks' languages (class="language-ts"); Readability would strip them.
    keepClasses: true,
    serializer: (node) => node as unknown as DomElement,
  });
  const article = reader.parse();
  const content = article?.content ?? document.body;
  if (content) flattenTableCells(content, document);
  const markdown = content ? htmlToMarkdown(content.innerHTML) : '';

  const metadata: PageMetadata = {
    title: tidy(article?.title) ?? pageMeta.title,
    author: tidy(article?.byline) ?? pageMeta.author,
    publishedAt: tidy(article?.publishedTime) ?? pageMeta.publishedAt,
    modifiedAt: pageMeta.modifiedAt,
    language: tidy(article?.lang) ?? pageMeta.language,
    siteName: tidy(article?.siteName) ?? pageMeta.siteName,
    description: tidy(article?.excerpt) ?? pageMeta.description,
  };
  return { markdown, metadata, readerView: !!article };
}
