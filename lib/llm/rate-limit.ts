/**
 * Request admission: at most `maxConcurrency` calls in flight and at most `requestsPerMinute` started per minute
 * (calls are spaced evenly, which also keeps a burst from tripping the provider's per-second limits).
 */
import { sleep } from '../retry';

export class RequestLimiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private nextStart = 0;

  constructor(
    readonly maxConcurrency: number,
    readonly requestsPerMinute?: number,
  ) {
    if (!(maxConcurrency >= 1)) throw new Error('maxConcurrency must be at least 1');
    if (requestsPerMinute !== undefined && !(requestsPerMinute > 0)) throw new Error('requestsPerMinute must be positive');
  }

  get inFlight(): number {
    return this.active;
  }

  /** Runs `fn` once a slot is free and the rate allows it. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Takes a slot (paced by the rate); call the returned function exactly once to give it back. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    await this.take();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.release();
    };
    try {
      await this.pace(signal);
    } catch (err) {
      release();
      throw err;
    }
    return release;
  }

  /** Waits for the rate only (for retries, which already hold a slot). */
  async pace(signal?: AbortSignal): Promise<void> {
    if (!this.requestsPerMinute) return;
    const interval = 60_000 / this.requestsPerMinute;
    const now = Date.now();
    const start = Math.max(now, this.nextStart);
    this.nextStart = start + interval;
    if (start > now) await sleep(start - now, signal);
  }

  private take(): Promise<void> {
    if (this.active < this.maxConcurrency) {
      this.active += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(() => resolve()));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next(); // hand the slot over without decrementing
    else this.active -= 1;
  }
}
