import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config';

let cached: string | undefined;

/** "twinflow/<version> (+https://github.com/twinflow/twinflow)": who is crawling, and where to read about it. */
export function defaultUserAgent(): string {
  if (!cached) {
    let version = '0.0.0';
    try {
      version = (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? version;
    } catch {
      // a packaged worker without package.json still crawls, under version 0.0.0
    }
    cached = `twinflow/${version} (+https://github.com/twinflow/twinflow)`;
  }
  return cached;
}
