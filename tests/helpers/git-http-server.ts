/**
 * A git remote for tests: a bare repository made with real git, served over git's smart HTTP protocol by
 * `git http-backend` (a CGI) behind a node server on 127.0.0.1. Tests hold responses back, refuse requests without
 * a credential or answer redirects through the options, so the git source meets each behaviour of a real host.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** git without the developer's configuration and with a fixed author, so commits succeed anywhere. */
const GIT_ENV = { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@x', GIT_CONFIG_GLOBAL: '/dev/null' };

/**
 * Commits `files` (relative path → text) in a new repository `<root>/<name>.src` and clones it bare to
 * `<root>/<name>.git`, what the server below serves as `/<name>.git`.
 */
export function makeBareRepo(root: string, name: string, files: Record<string, string>): string {
  const src = path.join(root, `${name}.src`);
  fs.mkdirSync(src, { recursive: true });
  const git = (args: string[], cwd: string) => execFileSync('git', args, { cwd, env: { ...process.env, ...GIT_ENV } });
  git(['init', '-q', '-b', 'main'], src);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(src, file)), { recursive: true });
    fs.writeFileSync(path.join(src, file), text);
  }
  git(['add', '-A'], src);
  git(['commit', '-q', '-m', 'first'], src);
  const bare = path.join(root, `${name}.git`);
  git(['clone', '-q', '--bare', src, bare], root);
  return bare;
}

export interface GitHttpServerOptions {
  /** Sees every request first; returns true when it has answered it itself (a 401, a redirect). */
  intercept?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
  /** Holds each response back this long once git has written it (a slow host). */
  delayMs?: number;
}

export interface GitHttpServer {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves the bare repositories under `root` (every one exported) until closed. */
export async function startGitHttpServer(root: string, o: GitHttpServerOptions = {}): Promise<GitHttpServer> {
  const server = http.createServer((req, res) => {
    if (o.intercept?.(req, res)) return;
    const url = new URL(req.url ?? '/', 'http://x');
    // A CGI: request metadata in the environment, the body on stdin, headers then body on stdout.
    const cgi = spawn('git', ['http-backend'], {
      env: {
        ...process.env,
        ...GIT_ENV,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
      },
    });
    req.pipe(cgi.stdin);
    const out: Buffer[] = [];
    cgi.stdout.on('data', (d: Buffer) => out.push(d));
    cgi.on('close', async () => {
      if (o.delayMs) await sleep(o.delayMs);
      const all = Buffer.concat(out);
      const split = all.indexOf('\r\n\r\n');
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of all.subarray(0, split).toString('latin1').split('\r\n')) {
        const i = line.indexOf(':');
        if (i < 0) continue;
        const name = line.slice(0, i).trim().toLowerCase();
        const value = line.slice(i + 1).trim();
        if (name === 'status') status = Number(value.split(' ')[0]);
        else headers[name] = value;
      }
      res.writeHead(status, headers).end(all.subarray(split + 4));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
