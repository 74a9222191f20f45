/**
 * Bounded fan-out for workflow code: at most `limit` calls in flight, started in input order. Deterministic (no
 * timers, no randomness), so it replays identically. Keeps a workflow far below the 2,000 pending activities limit
 * and keeps one workflow task from scheduling thousands of commands at once.
 */
export async function runBounded<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        await fn(items[index]!, index);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure !== undefined) throw failure;
}
