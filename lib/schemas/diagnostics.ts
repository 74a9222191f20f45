import { z } from 'zod';

export const stackCheckInputSchema = z
  .object({
    message: z.string().max(10_000).default('hello from twinflow'),
  })
  .strict();
export type StackCheckInput = z.input<typeof stackCheckInputSchema>;
