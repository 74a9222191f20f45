/** The Temporal client of a one-shot command: connected from the environment's config, closed however `fn` ends. */
import { TwinflowClient } from '../../client';
import { loadConfig } from '../../lib/config';

export async function withClient<T>(fn: (client: TwinflowClient) => Promise<T>): Promise<T> {
  const client = await TwinflowClient.connect(loadConfig());
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
