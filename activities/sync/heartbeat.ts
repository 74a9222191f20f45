import { Context } from '@temporalio/activity';

/** Heartbeats when running as an activity (liveness for long loops); a no-op when called outside one (unit tests). */
export function beat(): void {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return;
  }
  ctx.heartbeat();
}

/**
 * Heartbeats every `everyMs` while `work` runs: for one long call with no loop to beat in, such as a vector store
 * write that also rebuilds the store's indexes (seconds at 100k rows, possibly minutes at millions). The heartbeat
 * says the process is alive; the activity's start-to-close timeout still bounds the call.
 */
export async function heartbeatWhile<T>(work: Promise<T>, everyMs = 10_000, details?: unknown): Promise<T> {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return work;
  }
  const timer = setInterval(() => ctx.heartbeat(details), everyMs);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}
