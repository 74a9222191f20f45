/**
 * YAML front matter (`---` … `---` at the very top of a Markdown file, as Jekyll, Hugo, Astro and Obsidian write it).
 * It is metadata, not content: it is removed from the text and its well-known keys fill the document's fields.
 */
import { parse as parseYaml } from 'yaml';

export interface FrontMatter {
  title?: string;
  author?: string;
  /** `date` (or `published`), as an ISO string when YAML read it as a date. */
  date?: string;
  tags: string[];
  /** Every other key whose value is a string, number, boolean or list of strings. */
  extra: Record<string, string | number | boolean | string[]>;
}

const FRONT_MATTER = /^---[ \t]*\n([\s\S]*?)\n(?:---|\.\.\.)[ \t]*(?:\n|$)/;

function asString(value: unknown): string | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  if (typeof value === 'string') return value.trim() || undefined;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) {
    const parts = value.map(asString).filter((s): s is string => !!s);
    return parts.length > 0 ? parts.join(', ') : undefined;
  }
  if (value && typeof value === 'object' && 'name' in value) return asString((value as { name: unknown }).name);
  return undefined;
}

function asTags(value: unknown): string[] {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [];
  return list.map((t) => (typeof t === 'string' || typeof t === 'number' ? String(t).trim() : '')).filter((t) => t !== '');
}

/**
 * Splits front matter off `markdown` (line endings already normalised). Text that starts with `---` but is not a
 * YAML mapping (a thematic break, a table) is left alone and reported as having no front matter.
 */
export function splitFrontMatter(markdown: string): { frontMatter?: FrontMatter; body: string } {
  const m = FRONT_MATTER.exec(markdown);
  if (!m) return { body: markdown };
  let data: unknown;
  try {
    data = parseYaml(m[1]!, { prettyErrors: false });
  } catch {
    return { body: markdown };
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) return { body: markdown };
  const record = data as Record<string, unknown>;
  const extra: FrontMatter['extra'] = {};
  for (const [key, value] of Object.entries(record)) {
    if (['title', 'author', 'authors', 'date', 'published', 'tags', 'keywords', 'categories'].includes(key)) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') extra[key] = value;
    else if (value instanceof Date) extra[key] = asString(value)!;
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) extra[key] = value as string[];
  }
  return {
    frontMatter: {
      title: asString(record.title),
      author: asString(record.author ?? record.authors),
      date: asString(record.date ?? record.published),
      tags: [...new Set([...asTags(record.tags), ...asTags(record.keywords), ...asTags(record.categories)])],
      extra,
    },
    body: markdown.slice(m[0].length),
  };
}
