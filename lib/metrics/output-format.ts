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
import type { OutputFormat } from '../schemas/train';

export type Ratings = Record<string, number>;

export interface ParsedOutput {
  /** The text part: everything before the ratings line (the whole output when there is none). */
  text: string;
  /** The ratings, when present and valid JSON with numbers (possibly incomplete: see `compliant`). */
  ratings?: Ratings;
  /** True when the output follows the format exactly: every rating present, numeric and within the scale. */
  compliant: boolean;
  /** Why the output is not compliant. */
  problem?: string;
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

/** Parses a model output in the fixed format; never throws (a malformed output is reported as not compliant). */
export function parseOutput(output: string, format: OutputFormat): ParsedOutput {
  const spec = format.ratings;
  if (!spec) return { text: output.trim(), compliant: output.trim().length > 0, problem: output.trim() ? undefined : 'empty output' };
  const lines = output.split('\n');
  let at = -1;
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    if (lines[i]!.trimStart().startsWith(spec.marker)) {
      at = i;
      break;
    }
  }
  if (at < 0) return { text: output.trim(), compliant: false, problem: `no "${spec.marker}" line` };
  const text = lines.slice(0, at).join('\n').trim();
  const jsonText = [lines[at]!.trimStart().slice(spec.marker.length), ...lines.slice(at + 1)].join('\n').trim();
  let value: unknown;
  try {
    value = JSON.parse(jsonText);
  } catch {
    return { text, compliant: false, problem: 'ratings are not valid JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { text, compliant: false, problem: 'ratings are not a JSON object' };
  const ratings: Ratings = {};
  const problems: string[] = [];
  for (const key of spec.keys) {
    const v = (value as Record<string, unknown>)[key];
    if (typeof v === 'number' && Number.isFinite(v)) {
      ratings[key] = v;
      if (v < spec.min || v > spec.max) problems.push(`${key} out of range`);
    } else {
      problems.push(`${key} missing`);
    }
  }
  if (text.length === 0) problems.unshift('empty text');
  return {
    text,
    ratings: Object.keys(ratings).length > 0 ? ratings : undefined,
    compliant: problems.length === 0,
    problem: problems.length ? problems.join(', ') : undefined,
  };
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
