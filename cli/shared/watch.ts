/** The plain progress display: one line per change, for callers that do not follow a run with followRun. */
import { ProgressReporter, watchProgress } from '../follow';

/**
 * Prints the line `progress` answers whenever it changes (on stdout), polling every `intervalMs`, until the result
 * arrives. (The commands use followRun, which draws a bar on a terminal; this is the plain form.)
 */
export async function watch<T>(progress: () => Promise<string>, result: Promise<T>, intervalMs = 1000): Promise<T> {
  const reporter = new ProgressReporter({ mode: 'lines', lines: process.stdout });
  return watchProgress(async () => ({ line: await progress() }), result, reporter, intervalMs);
}
