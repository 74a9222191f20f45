/** Errors of the chat client. `retryable` tells callers (and Temporal activities) whether trying again can help. */

export class LlmError extends Error {
  override name = 'LlmError';
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class LlmHttpError extends LlmError {
  override name = 'LlmHttpError';
  constructor(
    readonly status: number,
    readonly body: string,
    readonly url: string,
    retryable: boolean,
  ) {
    super(`chat completion failed: HTTP ${status} from ${url}: ${body.slice(0, 500)}`, retryable);
  }
}

/** The model kept answering with JSON that does not parse or does not match the schema. */
export class LlmJsonError extends LlmError {
  override name = 'LlmJsonError';
  constructor(
    message: string,
    readonly lastContent: string,
    readonly attempts: number,
  ) {
    super(message, false);
  }
}
