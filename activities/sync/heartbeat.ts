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
