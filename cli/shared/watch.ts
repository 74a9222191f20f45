/** The plain progress display: one line per change, for callers that do not follow a run with followRun. */
import { ProgressReporter, watchProgress } from '../follow';

/**
 * Prints the line `progress` answers whenever it changes (on stdout, or to `print`), polling every `intervalMs`, until
 * the result arrives, and returns (or throws) what it settled with. (The commands use followRun, which draws a bar on a
 * terminal; this is the plain form, for the demo's log.)
 */
export async function watch<T>(progress: () => Promise<string>, result: Promise<T>, intervalMs = 1000, print?: (line: string) => void): Promise<T> {
  const reporter = new ProgressReporter({ mode: 'lines', lines: print ?? process.stdout });
  return watchProgress(async () => ({ line: await progress() }), result, reporter, intervalMs);
}
