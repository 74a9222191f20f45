/**
 * Reading the file a command's --config names. Each reader keeps the one-line message its command has always printed
 * (tests and scripts match them): a file that is missing, unreadable or does not parse is named, with no stack trace.
 */
import fs from 'node:fs';
import YAML from 'yaml';
import { InputValidationError } from '../../lib/schemas/validate';

/** A --config JSON file (ingest). */
export function readJsonConfig(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new InputValidationError(`--config ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a folder, not a file' : e.message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InputValidationError(`--config ${file}: not valid JSON: ${(err as Error).message}`);
  }
}

/** A JSON or YAML file (sync, schedule, webhook): YAML when the name ends in .yaml or .yml. */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputValidationError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return /\.ya?ml$/i.test(file) ? YAML.parse(text) : JSON.parse(text);
  } catch (err) {
    throw new InputValidationError(`${file} is not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(err as Error).message}`);
  }
}
