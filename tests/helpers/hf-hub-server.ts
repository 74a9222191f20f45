/**
 * A stand-in for the Hugging Face Hub on 127.0.0.1 implementing the endpoints that @huggingface/hub's `createRepo`
 * and `commit` (with `useXet: false`) call, with the Hub's request and response shapes:
 *
 *   POST /api/repos/create                               {name, organization, type, visibility|private}  → {url, id}; 409 if it exists
 *   POST /api/models/:ns/:name/preupload/:rev            {files: [{path, size, sample}]} → {files: [{path, uploadMode}]}
 *   POST /:ns/:name.git/info/lfs/objects/batch           git-lfs batch "upload" (basic transfer) → upload hrefs
 *   PUT  /__lfs/:oid                                     the LFS object; its sha256 and size are checked
 *   POST /api/models/:ns/:name/commit/:rev               NDJSON: header (summary, description, parentCommit), file (base64),
 *                                                        lfsFile (oid) → {commitOid, commitUrl}; 412 when parentCommit is not the head
 *   GET  /api/models/:ns/:name/revision/:rev             model info (modelInfo): {_id, id, private, sha, lastModified, ...};
 *                                                        a private repository is 404 without the token, as on the Hub
 *   GET  /api/models/:ns/:name/commits/:rev?limit=N      the branch's commits, newest first: [{id, title, message, authors, date}]
 *
 * Binary files (a NUL byte in the 512-byte sample) and files over 10 MiB go through LFS, like on the Hub. Every
 * request is logged; `repos` holds what was committed, file by file.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HubRequest {
  method: string;
  path: string;
  authorization?: string;
  body: Buffer;
}

export interface HubRepo {
  id: string;
  private: boolean;
  files: Map<string, Buffer>;
  /** Oldest first. */
  commits: Array<{ oid: string; summary?: string; description?: string; paths: string[]; date: string }>;
}

export interface HfHubServer {
  url: string;
  requests: HubRequest[];
  repos: Map<string, HubRepo>;
  lfsObjects: Map<string, Buffer>;
  /**
   * What happens to the next commit request: 'lose-response' applies it, then drops the connection unanswered (the
   * client sees a network error, as when a response is lost); 'concurrent-commit' lands someone else's commit first.
   */
  nextCommit?: 'lose-response' | 'concurrent-commit';
  /** A repository that exists before the test (as if made on the Hub's website), public unless said. */
  addRepo(id: string, opts?: { private?: boolean }): HubRepo;
  close(): Promise<void>;
}

const LFS_MIN_BYTES = 10 * 1024 * 1024;

export async function startHfHubServer(opts: { token: string }): Promise<HfHubServer> {
  const requests: HubRequest[] = [];
  const repos = new Map<string, HubRepo>();
  const lfsObjects = new Map<string, Buffer>();
  let url = '';

  const json = (res: http.ServerResponse, status: number, body: unknown, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type, 'x-request-id': `req-${requests.length}` });
    res.end(JSON.stringify(body));
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = decodeURIComponent((req.url ?? '').split('?')[0]!);
      const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
      requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body });
      const authed = req.headers.authorization === `Bearer ${opts.token}`;
      try {
        let m: RegExpExecArray | null;
        if (req.method === 'POST' && path === '/api/repos/create') {
          if (!authed) return json(res, 401, { error: 'Invalid credentials in Authorization header' });
          const b = JSON.parse(body.toString('utf8')) as { name: string; organization?: string; type?: string; visibility?: string; private?: boolean };
          if (b.type !== 'model') return json(res, 400, { error: `unsupported repo type ${b.type}` });
          const id = `${b.organization}/${b.name}`;
          if (repos.has(id)) return json(res, 409, { error: 'You already created this model repo', url: `${url}/${id}` });
          repos.set(id, { id, private: b.visibility ? b.visibility === 'private' : b.private === true, files: new Map(), commits: [] });
          return json(res, 200, { url: `${url}/${id}`, name: id, id: `repo-${repos.size}` });
        }
        if (req.method === 'GET' && (m = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(path))) {
          const repo = repos.get(m[1]!);
          // The Hub does not tell a stranger that a private repository exists.
          if (!repo || (repo.private && !authed)) return json(res, 404, { error: 'Repository not found' });
          const head = repo.commits.at(-1);
          return json(res, 200, {
            _id: `id-${repo.id}`,
            id: repo.id,
            private: repo.private,
            gated: false,
            downloads: 0,
            likes: 0,
            pipeline_tag: 'text-generation',
            sha: head?.oid,
            lastModified: head?.date ?? new Date(0).toISOString(),
            siblings: [...repo.files.keys()].map((rfilename) => ({ rfilename })),
          });
        }
        if (req.method === 'GET' && (m = /^\/api\/models\/([^/]+\/[^/]+)\/commits\/([^/]+)$/.exec(path))) {
          const repo = repos.get(m[1]!);
          if (!repo || (repo.private && !authed)) return json(res, 404, { error: 'Repository not found' });
          if (repo.commits.length === 0) return json(res, 404, { error: `Revision not found: ${m[2]}` });
          const limit = Number(query.get('limit') ?? 50);
          return json(
            res,
            200,
            [...repo.commits]
              .reverse()
              .slice(0, limit)
              .map((c) => ({ id: c.oid, title: c.summary ?? '', message: [c.summary, c.description].filter(Boolean).join('\n\n'), authors: [{ user: 'twinflow-test', avatar: '' }], date: c.date })),
          );
        }
        if (req.method === 'POST' && (m = /^\/api\/models\/([^/]+\/[^/]+)\/preupload\/([^/]+)$/.exec(path))) {
          if (!authed) return json(res, 401, { error: 'Invalid credentials in Authorization header' });
          if (!repos.has(m[1]!)) return json(res, 404, { error: 'Repository not found' });
          const b = JSON.parse(body.toString('utf8')) as { files: Array<{ path: string; size: number; sample: string }> };
          return json(res, 200, {
            files: b.files.map((f) => ({
              path: f.path,
              uploadMode: f.size > LFS_MIN_BYTES || Buffer.from(f.sample, 'base64').includes(0) ? 'lfs' : 'regular',
              shouldIgnore: false,
            })),
          });
        }
        if (req.method === 'POST' && (m = /^\/([^/]+\/[^/]+)\.git\/info\/lfs\/objects\/batch$/.exec(path))) {
          if (!authed) return json(res, 401, { message: 'Invalid credentials' }, 'application/vnd.git-lfs+json');
          if (!repos.has(m[1]!)) return json(res, 404, { message: 'Repository not found' }, 'application/vnd.git-lfs+json');
          const b = JSON.parse(body.toString('utf8')) as { operation: string; transfers: string[]; objects: Array<{ oid: string; size: number }> };
          if (b.operation !== 'upload' || !b.transfers.includes('basic')) return json(res, 422, { message: 'unsupported batch request' }, 'application/vnd.git-lfs+json');
          return json(
            res,
            200,
            {
              transfer: 'basic',
              objects: b.objects.map((o) => ({
                oid: o.oid,
                size: o.size,
                authenticated: true,
                ...(lfsObjects.has(o.oid) ? {} : { actions: { upload: { href: `${url}/__lfs/${o.oid}`, expires_in: 3600 } } }),
              })),
            },
            'application/vnd.git-lfs+json',
          );
        }
        if (req.method === 'PUT' && (m = /^\/__lfs\/([0-9a-f]{64})$/.exec(path))) {
          const sha = createHash('sha256').update(body).digest('hex');
          if (sha !== m[1]) return json(res, 400, { error: `sha256 mismatch: got ${sha}` });
          lfsObjects.set(sha, body);
          res.writeHead(200, { etag: `"${sha}"` });
          return res.end();
        }
        if (req.method === 'POST' && (m = /^\/api\/models\/([^/]+\/[^/]+)\/commit\/([^/]+)$/.exec(path))) {
          if (!authed) return json(res, 401, { error: 'Invalid credentials in Authorization header' });
          const repo = repos.get(m[1]!);
          if (!repo) return json(res, 404, { error: 'Repository not found' });
          const lines = body
            .toString('utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as { key: string; value: Record<string, unknown> });
          const header = lines.find((l) => l.key === 'header')?.value ?? {};
          const fault = hub.nextCommit;
          hub.nextCommit = undefined;
          if (fault === 'concurrent-commit') repo.commits.push({ oid: createHash('sha1').update(`other:${repo.commits.length}`).digest('hex'), summary: 'someone else', paths: [], date: new Date().toISOString() });
          const head = repo.commits.at(-1)?.oid;
          if (header.parentCommit !== undefined && header.parentCommit !== head) {
            return json(res, 412, { error: `A commit has happened since: parentCommit ${String(header.parentCommit)} is not the head ${head ?? '(none)'}` });
          }
          const staged = new Map<string, Buffer>();
          for (const { key, value } of lines) {
            if (key === 'file') {
              if (value.encoding !== 'base64') return json(res, 400, { error: 'file content must be base64' });
              staged.set(String(value.path), Buffer.from(String(value.content), 'base64'));
            } else if (key === 'lfsFile') {
              const obj = lfsObjects.get(String(value.oid));
              if (!obj || obj.length !== value.size) return json(res, 400, { error: `LFS object ${String(value.oid)} of ${String(value.path)} was not uploaded` });
              staged.set(String(value.path), obj);
            } else if (key === 'deletedFile') {
              repo.files.delete(String(value.path));
            }
          }
          for (const [p, b] of staged) repo.files.set(p, b);
          const oid = createHash('sha1').update(`${repo.commits.length}:${[...staged.keys()].join(',')}`).digest('hex');
          repo.commits.push({ oid, summary: header.summary as string | undefined, description: header.description as string | undefined, paths: [...staged.keys()], date: new Date().toISOString() });
          if (fault === 'lose-response') return void req.socket.destroy();
          return json(res, 200, { commitOid: oid, commitUrl: `${url}/${repo.id}/commit/${oid}`, success: true });
        }
        return json(res, 404, { error: `no route ${req.method} ${path}` });
      } catch (err) {
        return json(res, 500, { error: String(err) });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const hub: HfHubServer = {
    url,
    requests,
    repos,
    lfsObjects,
    addRepo: (id, o = {}) => {
      const repo: HubRepo = { id, private: o.private === true, files: new Map(), commits: [] };
      repos.set(id, repo);
      return repo;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return hub;
}
