import { ApplicationFailure } from '@temporalio/workflow';
import type { z } from 'zod';
import { InputValidationError, parseInput } from '../lib/schemas/validate';

/** Validates a workflow's single JSON input; a bad input fails the workflow at once (no retry) naming the field. */
export function validateWorkflowInput<S extends z.ZodType>(schema: S, input: unknown, workflow: string): z.output<S> {
  try {
    return parseInput(schema, input, workflow);
  } catch (err) {
    if (err instanceof InputValidationError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidInput');
    throw err;
  }
}
