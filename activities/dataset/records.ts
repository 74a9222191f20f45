/** Reading labelled records (JSON Lines or CSV) from S3 or a local path. */
import fs from 'node:fs/promises';
import { parse as parseCsv } from 'csv-parse/sync';
import type { ArtifactStore } from '../../lib/artifacts';

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

export async function readSourceText(uri: string, artifacts: ArtifactStore): Promise<Buffer> {
  if (uri.startsWith('s3://')) return artifacts.getBytes(uri);
  try {
    return await fs.readFile(uri.startsWith('file://') ? new URL(uri) : uri);
  } catch (err) {
    throw new RecordsError(`source.uri: cannot read ${uri}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Parses records; a malformed JSON line is an error naming the line (records are labelled data: no silent skips). */
export function parseRecords(text: string, kind: 'jsonl' | 'csv' | 'tsv', uri: string): DataRecord[] {
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
    return out;
  }
  try {
    return parseCsv(text, {
      columns: true,
      delimiter: kind === 'tsv' ? '\t' : ',',
      bom: true,
      skip_empty_lines: true,
      relax_column_count: false,
      trim: false,
    }) as DataRecord[];
  } catch (err) {
    throw new RecordsError(`${uri}: invalid ${kind.toUpperCase()}: ${(err as Error).message}`);
  }
}

export async function readRecords(uri: string, format: 'auto' | 'jsonl' | 'csv', artifacts: ArtifactStore): Promise<{ records: DataRecord[]; bytes: Buffer }> {
  const bytes = await readSourceText(uri, artifacts);
  return { records: parseRecords(bytes.toString('utf8'), detectFormat(uri, format), uri), bytes };
}
