/**
 * Serving a Hono app on host:port (port 0: any free port), for the HTTP surfaces twinflow runs itself (`serve`,
 * `codec-server`). The URL shows the address actually bound; close() also ends kept-alive connections, so a caller's
 * close is not held up by an idle client.
 */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';

export interface Listening {
  url: string;
  server: ServerType;
  close(): Promise<void>;
}

export function listen(app: Hono, host: string, port: number): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info: AddressInfo) => {
      const shownHost = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${shownHost}:${info.port}`,
        server,
        close: () =>
          new Promise<void>((res, rej) => {
            if ('closeAllConnections' in server) server.closeAllConnections();
            server.close((err) => (err ? rej(err) : res()));
          }),
      });
    });
    server.once('error', reject);
  });
}
