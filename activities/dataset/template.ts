/** Prompt templates: `{{field}}` placeholders (dotted paths into nested records) filled from a record. */
import { hashJson } from '../../lib/hash';
import { formatOutput, type Ratings } from '../../lib/metrics/output-format';
import type { ChatMessage, DatasetSpec, Example, OutputFormat } from '../../lib/schemas/train';
import type { DataRecord } from './records';

export class TemplateError extends Error {
  override name = 'TemplateError';
}

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

function lookup(record: DataRecord, dotted: string): unknown {
  if (dotted in record) return record[dotted];
  let cur: unknown = record;
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) return value.join(', ');
  return JSON.stringify(value);
}

/** The field names a template refers to. */
export function templateFields(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** Fills a template; a missing or empty field is an error naming it. */
export function renderTemplate(template: string, record: DataRecord): string {
  return template.replace(PLACEHOLDER, (_, field: string) => {
    const v = lookup(record, field);
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) throw new TemplateError(`field "${field}" is missing or empty`);
    return asText(v);
  });
}

function toRating(value: unknown, key: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw new TemplateError(`rating "${key}" is not a number (got ${JSON.stringify(value)})`);
  return n;
}

type RecordsSource = Extract<DatasetSpec['source'], { kind: 'records' }>;

/** Maps one labelled record to a chat example: system + user from templates, assistant in the fixed output format. */
export function recordToExample(record: DataRecord, source: RecordsSource, format: OutputFormat): Example {
  const t = source.template;
  const messages: ChatMessage[] = [];
  if (t.system) messages.push({ role: 'system', content: renderTemplate(t.system, record).trim() });
  messages.push({ role: 'user', content: renderTemplate(t.user, record).trim() });
  let ratings: Ratings | undefined;
  if (format.ratings) {
    ratings = {};
    for (const key of format.ratings.keys) {
      const field = t.ratingFields?.[key] ?? key;
      const r = toRating(lookup(record, field), key);
      if (r < format.ratings.min || r > format.ratings.max) throw new TemplateError(`rating "${key}" = ${r} is outside ${format.ratings.min}..${format.ratings.max}`);
      ratings[key] = r;
    }
  }
  messages.push({ role: 'assistant', content: formatOutput(renderTemplate(t.response, record), ratings, format) });
  const idValue = source.idField ? lookup(record, source.idField) : undefined;
  const id = idValue !== undefined && idValue !== null && String(idValue) !== '' ? String(idValue) : hashJson(record).slice(0, 16);
  return { id, messages, source: id };
}
