/** Deterministic artifact keys for the steps of one workflow run: a retried activity overwrites the same objects. */
export function partKey(runKey: string, step: string, group: string, index: number, suffix = 'jsonl'): string {
  return `${runKey}/${step}/${encodeURIComponent(group)}/part-${String(index).padStart(5, '0')}.${suffix}`;
}

/** Milliseconds since `start` (performance.now()), rounded. */
export function elapsedSince(start: number): number {
  return Math.round(performance.now() - start);
}
