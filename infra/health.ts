/** Health checks of the stacks' services, the same for the dev stack and the cluster profile. */
import { Connection } from '@temporalio/client';

/** Whether a GET of `url` answers 2xx within 2 s. */
export async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** MinIO's liveness endpoint on 127.0.0.1:`port`. */
export const minioHealthy = (port: number) => httpOk(`http://127.0.0.1:${port}/minio/health/live`);

/** Whether Temporal's frontend on 127.0.0.1:`port` answers, and knows `namespace` when one is given. */
export async function temporalHealthy(port: number, namespace?: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: 2000 });
    await connection.workflowService.getSystemInfo({});
    if (namespace) await connection.workflowService.describeNamespace({ namespace });
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}
