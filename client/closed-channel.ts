/**
 * @temporalio/client retries failed gRPC calls on a timer, and `Connection.close()` does not clear those timers: a
 * retry that fires after the close throws "Channel has been shut down" inside the timer, where no caller can catch
 * it, and Node treats it as an uncaught exception. The connection is already closed on purpose, so that error is
 * harmless; every other uncaught error keeps its usual meaning.
 */
export function isClosedChannelRetry(err: unknown): boolean {
  const e = err as { message?: unknown; stack?: unknown } | undefined;
  return e?.message === 'Channel has been shut down' && typeof e.stack === 'string' && e.stack.includes('grpc-retry');
}

/** For command-line processes: ignore exactly that error; any other uncaught error still ends the process. */
export function ignoreClosedChannelRetries(): void {
  process.on('uncaughtException', (err) => {
    if (isClosedChannelRetry(err)) return;
    console.error(err);
    process.exit(1);
  });
}
