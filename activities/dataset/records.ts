/**
 * Reading labelled records (JSON Lines or CSV) from S3 or a local path. The path comes from workflow input, so it is
 * read only where the worker allows (TWINFLOW_ALLOW_PATHS, TWINFLOW_ALLOW_BUCKETS; lib/security/resources.ts), and
 * then by its real path, the one that was checked.
 */
import fs from 'node:fs/promises';
import { parse as parseCsv } from 'csv-parse/sync';
import type { ArtifactStore } from '../../lib/artifacts';
import { checkRecordsUri, type ResourcePolicy } from '../../lib/security/resources';

export type DataRecord = Record<string, unknown>;

export class RecordsError extends Error {
  override name = 'RecordsError';
}

/** jsonl or csv from the explicit format, else from the extension (.csv, .tsv; anything else is JSON Lines). */
export function detectFormat(uri: string, format: 'auto' | 'jsonl' | 'csv'): 'jsonl' | 'csv' | 'tsv' {
  if (format === 'jsonl') return 'jsonl';
  const lower = uri.toLowerCase().replace(/\.gz$/, '');
  if (lower.endsWith('.tsv')) return 'tsv';
  if (format === 'csv' || lower.endsWith('.csv')) return 'csv';
  return 'jsonl';
}

/** A records path or bucket the worker does not allow: an input problem, not retried. */
export class RecordsNotAllowedError extends RecordsError {
  override name = 'RecordsNotAllowedError';
}

export async function readSourceText(uri: string, artifacts: ArtifactStore, resources: ResourcePolicy): Promise<Buffer> {
  const verdict = checkRecordsUri(resources, uri);
  if (!verdict.allowed) throw new RecordsNotAllowedError(`source.uri: ${verdict.reason}`);
  if (uri.startsWith('s3://')) return artifacts.getBytes(uri);
  try {
    return await fs.readFile(verdict.realPath);
  } catch (err) {
    throw new RecordsError(`source.uri: cannot read ${uri}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * Parses records; a malformed JSON line or CSV row is an error naming the file, the line and the problem (records are
 * labelled data: no silent skips).
 */
export function parseRecords(text: string, kind: 'jsonl' | 'csv' | 'tsv', uri: string): DataRecord[] {
  return parseRecordsWithHeader(text, kind, uri).records;
}

/** parseRecords, plus the column names of a CSV/TSV header (absent for JSON Lines, empty for an empty file). */
export function parseRecordsWithHeader(text: string, kind: 'jsonl' | 'csv' | 'tsv', uri: string): { records: DataRecord[]; header?: string[] } {
  if (kind === 'jsonl') {
    const out: DataRecord[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i += 1) {
      const line = lines[i]!.trim();
      if (!line) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new RecordsError(`${uri} line ${i + 1}: not valid JSON`);
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new RecordsError(`${uri} line ${i + 1}: expected a JSON object`);
      out.push(value as DataRecord);
    }
    return { records: out };
  }
  const delimiter = kind === 'tsv' ? '\t' : ',';
  let header: string[] = [];
  try {
    const records = parseCsv(text, {
      columns: (names: string[]) => {
        header = names;
        const seen = new Set<string>();
        for (const n of names) {
          // csv-parse would keep the last of two same-named columns and drop the first without a word.
          if (seen.has(n)) throw new RecordsError(`${uri} line 1: the header names column ${JSON.stringify(n)} twice`);
          seen.add(n);
        }
        return names;
      },
      delimiter,
      bom: true,
      skip_empty_lines: true,
      relax_column_count: false,
      trim: false,
    }) as DataRecord[];
    return { records, header };
  } catch (err) {
    if (err instanceof RecordsError) throw err;
    throw new RecordsError(`${uri} ${describeCsvError(err as CsvError, text, delimiter, header, kind.toUpperCase())}`);
  }
}

type CsvError = Error & { code?: string; lines?: number };

/** "line N: what is wrong", for the errors csv-parse raises on malformed files. */
function describeCsvError(err: CsvError, text: string, delimiter: string, header: string[], kind: string): string {
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED': {
      const opened = unclosedQuoteLine(text, delimiter) ?? err.lines;
      return `line ${opened}: unterminated quoted field: the quote that opens it is never closed (the file ends inside it, at line ${err.lines})`;
    }
    case 'CSV_RECORD_INCONSISTENT_COLUMNS': {
      const got = /got (\d+)/.exec(err.message)?.[1] ?? 'a different number of';
      return `line ${err.lines}: wrong column count: ${got} field(s), but the header has ${header.length} (${header.join(', ')})`;
    }
    case 'CSV_INVALID_CLOSING_QUOTE': {
      const after = /got "(.*?)"/.exec(err.message)?.[1];
      return `line ${err.lines}: a quoted field is followed by ${after ? JSON.stringify(after) : 'other text'} instead of a delimiter or the end of the line (a quote inside a quoted field is written "")`;
    }
    default:
      return `${err.lines !== undefined ? `line ${err.lines}: ` : ''}invalid ${kind}: ${err.message}`;
  }
}

/** The line on which the quoted field that never closes opens (RFC 4180 quoting: "" is a quote inside one). */
function unclosedQuoteLine(text: string, delimiter: string): number | undefined {
  let line = 1;
  let fieldStart = true;
  let openedOn: number | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (openedOn !== undefined) {
      if (ch === '"') {
        if (text[i + 1] === '"') i++;
        else {
          openedOn = undefined;
          fieldStart = false;
        }
      } else if (ch === '\n') line++;
      continue;
    }
    if (ch === '"' && fieldStart) openedOn = line;
    else if (ch === delimiter) fieldStart = true;
    else if (ch === '\n') {
      line++;
      fieldStart = true;
    } else if (ch !== '\r' && ch !== '\uFEFF') fieldStart = false;
  }
  return openedOn;
}

/**
 * The columns a records source needs that a CSV/TSV header lacks: every template placeholder, the rating fields and
 * the id field. A missing column would otherwise fail every record alike ("field ... is missing or empty").
 */
export function missingColumns(header: readonly string[], needed: ReadonlyArray<{ field: string; usedBy: string }>): Array<{ field: string; usedBy: string }> {
  const have = new Set(header);
  const out: Array<{ field: string; usedBy: string }> = [];
  for (const n of needed) if (!have.has(n.field) && !out.some((o) => o.field === n.field)) out.push(n);
  return out;
}

export async function readRecords(
  uri: string,
  format: 'auto' | 'jsonl' | 'csv',
  artifacts: ArtifactStore,
  resources: ResourcePolicy,
): Promise<{ records: DataRecord[]; bytes: Buffer; kind: 'jsonl' | 'csv' | 'tsv'; header?: string[] }> {
  const bytes = await readSourceText(uri, artifacts, resources);
  const kind = detectFormat(uri, format);
  return { ...parseRecordsWithHeader(bytes.toString('utf8'), kind, uri), bytes, kind };
}

