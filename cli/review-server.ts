/**
 * `twinflow train review RUN --serve`: the run's review page on 127.0.0.1 with an approve/reject form that sends the
 * `review` Update through the client. The page itself is the static file from S3; the form replaces its actions
 * marker. A per-process token in the form keeps other pages the browser has open from posting a decision.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { REVIEW_ACTIONS_MARKER } from '../activities/model-eval/review';
import type { ReviewDecision, ReviewOutcome } from '../lib/schemas/train';

export interface ReviewServer {
  url: string;
  /** Resolves with the decision once one was accepted by the run. */
  decided: Promise<ReviewOutcome>;
  close(): Promise<void>;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body style="font:15px system-ui,sans-serif;margin:2rem">${body}</body></html>`;
}

export async function serveReview(o: {
  html: string;
  workflowId: string;
  by: string;
  send: (d: ReviewDecision) => Promise<ReviewOutcome>;
  port?: number;
  host?: string;
}): Promise<ReviewServer> {
  const token = randomBytes(16).toString('hex');
  let resolveDecided!: (r: ReviewOutcome) => void;
  const decided = new Promise<ReviewOutcome>((r) => (resolveDecided = r));
  const form = [
    '<section id="review-actions"><h2>Decide</h2>',
    `<form method="post" action="/decision"><input type="hidden" name="token" value="${token}">`,
    `<p><label>Who decides <input name="by" value="${esc(o.by)}" size="30"></label></p>`,
    '<p><label>Why (goes into the model card)<br><textarea name="reason" id="reason" rows="3" cols="80" required></textarea></label></p>',
    '<p><button type="submit" name="decision" value="approve" id="approve">Approve and publish</button> <button type="submit" name="decision" value="reject" id="reject">Reject</button></p>',
    '</form></section>',
  ].join('\n');
  const served = o.html.includes(REVIEW_ACTIONS_MARKER) ? o.html.replace(REVIEW_ACTIONS_MARKER, form) : o.html.replace('</body>', `${form}</body>`);

  const server = http.createServer((req, res) => {
    const reply = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method === 'GET' && (req.url === '/' || req.url?.startsWith('/?'))) return reply(200, served);
    if (req.method !== 'POST' || req.url !== '/decision') return reply(404, page('Not found', '<p>Not found.</p>'));
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      raw += c;
      if (raw.length > 64_000) req.destroy();
    });
    req.on('end', () => {
      const form = new URLSearchParams(raw);
      if (form.get('token') !== token) return reply(403, page('Refused', '<p>This form is stale or not from this server: reload the page.</p>'));
      const decision = form.get('decision');
      if (decision !== 'approve' && decision !== 'reject') return reply(400, page('Refused', '<p>Choose approve or reject.</p>'));
      o.send({ decision, reason: form.get('reason') ?? '', by: form.get('by') ?? '' }).then(
        (r) => {
          reply(200, page('Decided', `<h1 id="outcome">${r.decision === 'approve' ? 'Approved' : 'Rejected'}</h1><p>by ${esc(r.by)} at ${esc(r.at)}: ${esc(r.reason)}</p><p>Run <code>${esc(o.workflowId)}</code> ${r.decision === 'approve' ? 'publishes now' : 'publishes nothing'}.</p>`));
          resolveDecided(r);
        },
        (err: unknown) => reply(409, page('Refused', `<h1 id="outcome">Not accepted</h1><p>${esc((err as Error).message)}</p>`)),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${o.host ?? '127.0.0.1'}:${addr.port}/`,
    decided,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
