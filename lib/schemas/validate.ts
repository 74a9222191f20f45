/**
 * Workflow input validation shared by workflows and clients. Workflows throw a non-retryable ApplicationFailure whose
 * message names the bad field; clients call the same function before starting, to fail before a round trip.
 */
import type { z } from 'zod';

export class InputValidationError extends Error {
  override name = 'InputValidationError';
}

/** "sources.0.url: Invalid URL; collection: Required" */
export function formatZodError(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length ? i.path.join('.') : '(input)'}: ${i.message}`)
    .join('; ');
}

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) throw new InputValidationError(`invalid ${what} input: ${formatZodError(parsed.error)}`);
  return parsed.data;
}
