/**
 * Self-query: the entities a question names (author, source, source type, tags, a date range) and the payload filter
 * they become. Both extractors (rules here, the LLM in ./llm) produce `Entities`; `entitiesToFilter` validates them
 * against the catalog of what the collection holds, so a filter only ever names values that exist, and a question
 * with no recognisable entity runs unfiltered.
 */
import type { Catalog } from '../catalog';
import { FILTER_FIELDS, type Condition, type Filter, type FilterField } from '../../lib/vectorstore/types';
import { extractDateRange } from './dates';

export interface Entities {
  authors: string[];
  sourceIds: string[];
  sourceTypes: string[];
  tags: string[];
  published?: { gte?: number; lte?: number };
  /** The text that produced each entity, for the trace. */
  evidence: string[];
}

export const noEntities = (): Entities => ({ authors: [], sourceIds: [], sourceTypes: [], tags: [], evidence: [] });

/** Lower case, accents removed, anything but letters and digits a single space. */
export function normalise(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

function containsPhrase(haystackNorm: string, phrase: string): boolean {
  const p = normalise(phrase);
  return p.length > 0 && ` ${haystackNorm} `.includes(` ${p} `);
}

const BYLINE_WORDS = new Set(['by', 'written', 'edited', 'and', 'with', 'contributors', 'updated', 'last', 'posted']);

/** Names inside a byline such as "Written by Rob Ewaschuk Edited by Betsy Beyer": runs of 2–3 capitalised words. */
export function namesInByline(byline: string): string[] {
  const words = byline.split(/[^\p{L}\p{N}'’.-]+/u).filter(Boolean);
  const names: string[] = [];
  let run: string[] = [];
  const flush = () => {
    for (let len = Math.min(3, run.length); len >= 2; len--) {
      for (let i = 0; i + len <= run.length; i++) names.push(run.slice(i, i + len).join(' '));
    }
    run = [];
  };
  for (const w of words) {
    if (/^\p{Lu}/u.test(w) && !BYLINE_WORDS.has(w.toLowerCase())) run.push(w);
    else flush();
  }
  flush();
  return [...new Set(names)];
}

/** Whole-word, case-sensitive on the capital initials: "Heath" matches "ask Heath", not "heath land". */
function containsName(question: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
  return new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'u').test(question);
}

/** Catalog authors the question names: the whole byline, a name inside it, or a surname unique in the collection. */
export function matchAuthors(question: string, authors: readonly string[]): Array<{ author: string; phrase: string }> {
  const q = normalise(question);
  const found = new Map<string, string>();
  const surnames = new Map<string, string[]>();
  for (const author of authors) {
    for (const name of namesInByline(author)) {
      const last = name.split(' ').at(-1)!;
      if (last.length >= 4) surnames.set(last.toLowerCase(), [...(surnames.get(last.toLowerCase()) ?? []), author]);
    }
  }
  for (const author of authors) {
    if (normalise(author).split(' ').length >= 2 && containsPhrase(q, author)) {
      found.set(author, author);
      continue;
    }
    const name = namesInByline(author).find((n) => containsName(question, n));
    if (name) found.set(author, name);
  }
  if (found.size === 0) {
    for (const [surname, owners] of surnames) {
      const unique = [...new Set(owners)];
      if (unique.length !== 1) continue;
      const capitalised = surname[0]!.toUpperCase() + surname.slice(1);
      if (containsName(question, capitalised) || containsName(question, surname.toUpperCase())) found.set(unique[0]!, capitalised);
    }
  }
  return [...found].map(([author, phrase]) => ({ author, phrase }));
}

const SOURCE_TYPE_CUES: Array<{ type: string; re: RegExp }> = [
  { type: 'git', re: /\b(github|gitlab|git repo(?:sitory)?|repositor(?:y|ies)|source code|codebase)\b/i },
  { type: 'web', re: /\b(web ?pages?|websites?|blog posts?|online articles?)\b/i },
  { type: 'folder', re: /\b(local (?:files?|folders?|notes?))\b/i },
];

/** The cheap extractor: dates by pattern, and authors, sources and tags the catalog knows, by name. */
export function extractEntitiesByRules(question: string, catalog: Catalog, now: Date = new Date()): Entities {
  const e = noEntities();
  const q = normalise(question);
  for (const { author, phrase } of matchAuthors(question, catalog.authors)) {
    e.authors.push(author);
    e.evidence.push(phrase);
  }
  for (const id of catalog.sourceIds) {
    if (containsPhrase(q, id) || containsPhrase(q, id.replace(/[-_.]+/g, ' '))) {
      e.sourceIds.push(id);
      e.evidence.push(id);
    }
  }
  for (const cue of SOURCE_TYPE_CUES) {
    const m = cue.re.exec(question);
    if (m) {
      e.sourceTypes.push(cue.type);
      e.evidence.push(m[0]);
    }
  }
  // Tags only when marked as tags ("#temporal", "tagged rust"): as bare words they are too often just topic words.
  for (const m of question.matchAll(/(?:#|\btagged(?:\s+with)?\s+|\btag\s+)["']?([\p{L}\p{N}][\p{L}\p{N}_.+-]*)/giu)) {
    e.tags.push(m[1]!);
    e.evidence.push(m[0]);
  }
  const dates = extractDateRange(question, now);
  if (dates) {
    e.published = { gte: dates.gte, lte: dates.lte };
    e.evidence.push(dates.phrase);
  }
  return e;
}

export interface SelfQueryResult {
  filter?: Filter;
  /** Conditions applied, in words. */
  applied: string[];
  /** Entities recognised but dropped, with the reason. */
  ignored: string[];
}

/** Resolves a value to the catalog's spelling: exact (normalised) match, else catalog values containing it as words. */
function resolveValues(values: string[], known: readonly string[]): { hits: string[]; misses: string[] } {
  const hits = new Set<string>();
  const misses: string[] = [];
  for (const v of values) {
    const nv = normalise(v);
    const exact = known.filter((k) => normalise(k) === nv);
    const partial = exact.length ? exact : nv.length >= 3 ? known.filter((k) => ` ${normalise(k)} `.includes(` ${nv} `)) : [];
    if (partial.length) partial.forEach((k) => hits.add(k));
    else misses.push(v);
  }
  return { hits: [...hits], misses };
}

function condition(field: FilterField, values: string[]): Condition {
  if (!FILTER_FIELDS.includes(field)) throw new Error(`${field} is not a filterable field`);
  return values.length === 1 ? { field, eq: values[0]! } : { field, in: values };
}

/**
 * Validated filter for the entities. Values must exist in the catalog; a condition that cannot narrow the search
 * (the only source or type the collection has) is dropped as a no-op; dates apply only when dates are indexed.
 */
export function entitiesToFilter(entities: Entities, catalog: Catalog): SelfQueryResult {
  const must: Condition[] = [];
  const applied: string[] = [];
  const ignored: string[] = [];
  const addField = (field: FilterField, label: string, values: string[], known: readonly string[], dropNoOp: boolean) => {
    if (values.length === 0) return;
    const { hits, misses } = resolveValues(values, known);
    misses.forEach((m) => ignored.push(`${label} ${JSON.stringify(m)}: not in the collection`));
    if (hits.length === 0) return;
    if (dropNoOp && hits.length >= known.length) {
      ignored.push(`${label} ${hits.join(', ')}: the collection holds nothing else`);
      return;
    }
    must.push(condition(field, hits));
    applied.push(`${label} ${hits.length === 1 ? '=' : 'in'} ${hits.join(' | ')}`);
  };
  addField('author', 'author', entities.authors, catalog.authors, false);
  addField('sourceId', 'source', entities.sourceIds, catalog.sourceIds, true);
  addField('sourceType', 'source type', entities.sourceTypes, catalog.sourceTypes, true);
  addField('tags', 'tag', entities.tags, catalog.tags, false);
  const p = entities.published;
  if (p && (p.gte !== undefined || p.lte !== undefined)) {
    const when = `${p.gte !== undefined ? new Date(p.gte).toISOString().slice(0, 10) : '…'} to ${p.lte !== undefined ? new Date(p.lte).toISOString().slice(0, 10) : '…'}`;
    if (!catalog.published) ignored.push(`published ${when}: the collection has no publication dates`);
    else {
      must.push({ field: 'publishedTs', range: { ...(p.gte !== undefined && { gte: p.gte }), ...(p.lte !== undefined && { lte: p.lte }) } });
      applied.push(`published ${when}`);
    }
  }
  return { filter: must.length ? { must } : undefined, applied, ignored };
}

/** AND of filters (undefined ones skipped). */
export function andFilters(...filters: Array<Filter | undefined>): Filter | undefined {
  const must = filters.flatMap((f) => f?.must ?? []);
  return must.length ? { must } : undefined;
}
