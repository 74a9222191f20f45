/**
 * The fixed output format of a model that writes a text plus numeric ratings, e.g. a company review:
 *
 *     The team is friendly and the pay is fair, but deadlines slip.
 *     Management listens.
 *
 *     Ratings: {"overall": 4, "culture": 5, "compensation": 3}
 *
 * The dataset builder writes assistant turns in this format, baselines are told to follow it, and evaluation parses
 * it back: the text part is scored with ROUGE-Lsum and the ratings with RMSE/MAE. A format without ratings is plain
 * text. This module is pure (no I/O) so workflows, activities and tests share it.
 */
import type { OutputFormat, RatingsFormat } from '../schemas/train';

export type Ratings = Record<string, number>;

export interface ParsedOutput {
  /** The text part: everything before the ratings line (the whole output when there is none). */
  text: string;
  /** The ratings that could be read, each a number within the scale (possibly incomplete: see `missing`). */
  ratings?: Ratings;
  /** True when the output follows the format exactly: every rating present, numeric and within the scale. */
  compliant: boolean;
  /** Why the output is not compliant. */
  problem?: string;
  /** With a ratings format: the keys that could not be read (absent, not a number or off the scale). */
  missing?: string[];
}

/** Renders a text and its ratings in the fixed format (ratings in the format's key order). */
export function formatOutput(text: string, ratings: Ratings | undefined, format: OutputFormat): string {
  const body = text.trim();
  if (!format.ratings) return body;
  if (!ratings) throw new Error('formatOutput: this format needs ratings');
  const ordered: Ratings = {};
  for (const key of format.ratings.keys) {
    const v = ratings[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`formatOutput: rating ${JSON.stringify(key)} is missing or not a number`);
    ordered[key] = v;
  }
  return `${body}\n\n${format.ratings.marker} ${JSON.stringify(ordered)}`;
}

/**
 * Parses a model output; never throws (a malformed output is reported, not fatal). What it accepts, so that a model
 * is scored on what it said rather than on markdown habits, and what it rejects (docs/training.md, "The ratings
 * parser"):
 *
 * - the marker line: the format's marker in any case, after list bullets, heading or quote marks, with markdown
 *   emphasis around it or its colon (`**Ratings:**`, `**Ratings**:`, `## Ratings:`, `- ratings:`); a line that is
 *   only the marker word (`## Ratings`) also counts. Prose that merely starts with the word ("Ratings are high")
 *   does not. The last marker line whose ratings can be read wins;
 * - the ratings: a JSON object on the marker line or the lines after it (code fences are skipped; text after the
 *   object is ignored), else `key: value` / `key = value` pairs on those lines (`overall: 4, culture: 5`, one per
 *   line, or a JavaScript-style object);
 * - keys match the format's keys ignoring case, spaces and hyphens (`Overall`, `work-life balance` for
 *   `work_life_balance`); other keys are ignored;
 * - values: numbers, numeric strings ("4") and "n/max" ("4/5" on a 1-5 scale). A value outside the scale, or
 *   anything else, is rejected: that rating counts as missing, with the reason in `problem`;
 * - the text part is everything before the marker line; anything after the ratings is dropped.
 */
export function parseOutput(output: string, format: OutputFormat): ParsedOutput {
  const spec = format.ratings;
  const whole = output.replace(/\r\n?/g, '\n');
  if (!spec) return { text: whole.trim(), compliant: whole.trim().length > 0, problem: whole.trim() ? undefined : 'empty output' };
  const lines = whole.split('\n');
  const candidates: Array<{ at: number; rest: string }> = [];
  for (let i = 0; i < lines.length; i += 1) {
    const rest = afterMarker(lines[i]!, spec.marker);
    if (rest !== undefined) candidates.push({ at: i, rest });
  }
  if (candidates.length === 0) return { text: whole.trim(), ratings: undefined, compliant: false, problem: `no "${spec.marker}" line`, missing: [...spec.keys] };
  let chosen: { at: number; read: RatingsRead } | undefined;
  for (let c = candidates.length - 1; c >= 0; c -= 1) {
    const { at, rest } = candidates[c]!;
    const next = candidates[c + 1]?.at ?? lines.length;
    const read = readRatings([rest, ...lines.slice(at + 1, next)].join('\n'), spec);
    if (!chosen || (chosen.read.found === 0 && read.found > 0)) chosen = { at, read };
    if (read.found > 0) break;
  }
  const { at, read } = chosen!;
  const text = lines.slice(0, at).join('\n').trim();
  const problems = [...read.problems];
  if (read.found === 0 && problems.length === 0) problems.push('ratings are not readable (neither a JSON object nor "key: value" pairs)');
  if (text.length === 0) problems.unshift('empty text');
  const missing = spec.keys.filter((k) => read.ratings[k] === undefined);
  return {
    text,
    ratings: Object.keys(read.ratings).length > 0 ? read.ratings : undefined,
    compliant: problems.length === 0,
    problem: problems.length ? problems.join(', ') : undefined,
    missing,
  };
}

const EMPHASIS = /^[*_]+/;

/** What follows the marker on a marker line, or undefined when the line is not one. */
function afterMarker(line: string, marker: string): string | undefined {
  const word = marker.replace(/:\s*$/, '').trim().toLowerCase();
  const needsColon = /:\s*$/.test(marker);
  let s = line.trim().replace(/^(?:>\s*)*(?:#{1,6}\s+)?(?:[-*+]\s+|\d+[.)]\s+)?/, '');
  s = s.replace(EMPHASIS, '');
  if (!s.toLowerCase().startsWith(word)) return undefined;
  s = s.slice(word.length).replace(EMPHASIS, '');
  if (s.startsWith(':')) return s.slice(1).replace(EMPHASIS, '').trim();
  // A heading or bold line holding only the marker word ("## Ratings"): the ratings follow on the next lines.
  if (s.trim() === '') return '';
  return needsColon ? undefined : s.trim();
}

interface RatingsRead {
  ratings: Ratings;
  problems: string[];
  /** Keys of the format that were present (valid or not). */
  found: number;
}

const normKey = (k: string) => k.trim().toLowerCase().replace(/[\s-]+/g, '_');

/** The first balanced {...} in a text (braces inside JSON strings do not count), or undefined. */
function firstObject(text: string): string | undefined {
  const start = text.indexOf('{');
  if (start < 0) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i += 1) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i += 1;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{') depth += 1;
    else if (ch === '}') {
      depth -= 1;
      if (depth === 0) return text.slice(start, i + 1);
    }
  }
  return undefined;
}

const NUMBER = '(-?\\d+(?:\\.\\d+)?(?:\\s*\\/\\s*\\d+(?:\\.\\d+)?)?)';
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `key: value` or `key = value` for one key (case, spaces, hyphens and underscores folded; quotes allowed). */
function keyValuePattern(key: string): RegExp {
  const name = key.split(/[_\s-]+/).map(escapeRe).join('[\\s_-]+');
  return new RegExp(`(?:^|[^A-Za-z0-9_])["']?${name}["']?\\s*[:=]\\s*["']?${NUMBER}`, 'i');
}

function readRatings(body: string, spec: RatingsFormat): RatingsRead {
  const cleaned = body
    .split('\n')
    .filter((l) => !/^\s*(```|~~~)/.test(l))
    .join('\n');
  const wanted = new Map(spec.keys.map((k) => [normKey(k), k]));
  const raw = new Map<string, unknown>();
  const json = firstObject(cleaned);
  let parsed = false;
  if (json !== undefined) {
    try {
      const value: unknown = JSON.parse(json);
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        parsed = true;
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
          const key = wanted.get(normKey(k));
          if (key !== undefined && !raw.has(key)) raw.set(key, v);
        }
      }
    } catch {
      // Not JSON: a JavaScript-style object or a truncated one still has readable "key: value" pairs below.
    }
  }
  if (!parsed) {
    for (const key of spec.keys) {
      const m = keyValuePattern(key).exec(cleaned);
      if (m) raw.set(key, m[1]!);
    }
  }
  const ratings: Ratings = {};
  const problems: string[] = [];
  for (const key of spec.keys) {
    if (!raw.has(key)) {
      problems.push(`${key} missing`);
      continue;
    }
    const v = toNumber(raw.get(key), spec.max);
    if (v === undefined) problems.push(`${key} is not a number (${JSON.stringify(raw.get(key))})`);
    else if (v < spec.min || v > spec.max) problems.push(`${key} ${v} outside ${spec.min}..${spec.max}`);
    else ratings[key] = v;
  }
  if (raw.size === 0) return { ratings, problems: parsed ? [`the ratings object has none of the keys ${spec.keys.join(', ')}`] : [], found: 0 };
  return { ratings, problems, found: raw.size };
}

function toNumber(v: unknown, max: number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*(?:\/\s*(\d+(?:\.\d+)?)\s*)?$/.exec(v);
  if (!m) return undefined;
  // "4/5" is a rating on the format's scale; "4/10" on a 1-5 scale is another scale: rejected, not rescaled.
  if (m[2] !== undefined && Number(m[2]) !== max) return undefined;
  return Number(m[1]);
}

/** The instruction appended to a baseline's system prompt so that a zero-shot model can follow the format. */
export function formatInstructions(format: OutputFormat): string | undefined {
  const spec = format.ratings;
  if (!spec) return undefined;
  const example = Object.fromEntries(spec.keys.map((k) => [k, `<${spec.min}-${spec.max}>`]));
  return (
    `Write the text first. Then end with one last line that starts with "${spec.marker}" followed by a JSON object ` +
    `with these number ratings from ${spec.min} to ${spec.max}: ${JSON.stringify(example).replace(/"</g, '<').replace(/>"/g, '>')}`
  );
}
