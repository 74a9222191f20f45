/**
 * A real HTTP server on 127.0.0.1 speaking two rerank wire formats, standing in for a hosted re-ranker:
 *   POST /rerank     (Hugging Face TEI)  {query, texts}     → [{index, score}] sorted by score
 *   POST /v1/rerank  (Cohere/Jina/vLLM)  {query, documents} → {results: [{index, relevance_score}]}
 * Scores come from a function the test gives; `failNext(status)` makes the next request fail once.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RerankServer {
  url: string;
  requests: Array<{ path: string; body: Record<string, unknown>; authorization?: string }>;
  failures: number;
  failNext(status: number): void;
  close(): Promise<void>;
}

export async function startRerankServer(score: (query: string, text: string) => number): Promise<RerankServer> {
  const requests: RerankServer['requests'] = [];
  const pending: number[] = [];
  const state = { failures: 0 };
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const body = JSON.parse(Buffer.concat(parts).toString('utf8') || '{}') as Record<string, unknown>;
      requests.push({ path: req.url ?? '', body, authorization: req.headers.authorization });
      const fail = pending.shift();
      if (fail !== undefined) {
        state.failures++;
        return send(fail, { error: 'scripted failure' });
      }
      const query = String(body.query ?? '');
      if (req.url === '/rerank') {
        const texts = body.texts as string[];
        return send(200, texts.map((t, index) => ({ index, score: score(query, t) })).sort((a, b) => b.score - a.score));
      }
      if (req.url === '/v1/rerank') {
        const docs = body.documents as string[];
        const results = docs.map((t, index) => ({ index, relevance_score: score(query, t) })).sort((a, b) => b.relevance_score - a.relevance_score);
        return send(200, { id: 'rerank-test', results: results.slice(0, Number(body.top_n ?? results.length)) });
      }
      send(404, { error: `no route ${req.url}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    get failures() {
      return state.failures;
    },
    failNext: (status) => void pending.push(status),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
