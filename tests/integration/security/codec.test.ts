/**
 * Payload encryption end to end (#12): a real worker and client with the AES-GCM codec ingest a page from a local
 * site, and nothing of it is readable in the Temporal dev server's SQLite database (main file and -wal); the same
 * ingest without the codec leaves it there in plaintext (so this test can fail). Then the codec server decodes the
 * payloads of that run's history, taken raw from Temporal and sent the way the Web UI sends them (real HTTP, CORS
 * origin, X-Namespace).
 *
 * What reaches Temporal from an ingest: the input (source URLs), results (counts, locations of skipped pages, S3
 * URIs), heartbeats and memos. Document text itself stays in S3 (claim check), so the distinctive string that can
 * leak is the page's location: it is made of the sentence, and the sentence itself is checked too.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../../activities';
import { createDeps } from '../../../activities/deps';
import { AesGcmCodec, ENCODING, KEY_ID_METADATA } from '../../../lib/codec';
import { type RunningCodecServer, startCodecServer, toJsonPayload } from '../../../lib/codec/server';
import type { IngestInput, IngestResult } from '../../../lib/schemas/ingest';
import { testConfig } from '../../harness/stack';
import { withWorker } from '../../harness/worker';

const KEYS = `it-old:${randomBytes(32).toString('base64')},it-new:${randomBytes(32).toString('base64')}`;
const tag = randomUUID().slice(0, 8);
/** A distinctive sentence per run, and the page location made of it (what history would carry). */
const sentence = (run: string) => `The lighthouse keeper ${run} counted forty-one quokkas before noon ${tag}`;
const slug = (run: string) => sentence(run).toLowerCase().replace(/[^a-z0-9]+/g, '-');

let site: http.Server;
let siteUrl = '';
let tmp: string;

function page(run: string): string {
  const p = `<p>${sentence(run)}. The gulls watched from the rocks while the lamp was polished and the log written up.</p>`;
  return `<!doctype html><html><head><title>${sentence(run)}</title></head><body><article><h1>${sentence(run)}</h1>${p.repeat(6)}</article></body></html>`;
}

async function ingest(run: string, codec: boolean): Promise<{ result: IngestResult; workflowId: string }> {
  const config = testConfig({ LANCEDB_URI: path.join(tmp, `lancedb-${run}`), ...(codec ? { TWINFLOW_CODEC_KEYS: KEYS } : {}) });
  const input: IngestInput = {
    collection: `codec_${run}`,
    sources: [{ type: 'web', id: 'site', urls: [`${siteUrl}/${slug(run)}/`, `${siteUrl}/missing-${slug(run)}/`], perHostRps: 50 }],
    chunking: { chunkTokens: 128, overlapTokens: 16 },
  } as IngestInput;
  // No distinctive string in ids, task queues or search attributes: those are never encrypted (Temporal indexes them).
  const workflowId = `codec-test-${run}-${tag}`;
  const result = await withWorker(config, createActivities(createDeps(config)), async ({ client, taskQueue }) =>
    client.workflow.execute('ingest', { taskQueue, workflowId, args: [input] }),
  );
  return { result, workflowId };
}

/** The dev server's database files, read now (SQLite in WAL mode: recent pages are in the -wal file). */
function database(): Buffer {
  const file = path.join(testConfig().stack.dir, 'temporal.sqlite');
  expect(fs.existsSync(file)).toBe(true);
  return Buffer.concat(['', '-wal', '-shm'].map((s) => `${file}${s}`).filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)));
}

/** Waits until the server has written `needle` (or `timeoutMs` passed): SQLite writes land shortly after the answer. */
async function waitForWrite(needle: string, timeoutMs = 5000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (database().includes(Buffer.from(needle))) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}

let encrypted: { result: IngestResult; workflowId: string };
let plain: { result: IngestResult; workflowId: string };

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-codec-'));
  site = http.createServer((req, res) => {
    const run = ['enc', 'plain'].find((r) => req.url === `/${slug(r)}/`);
    if (run) return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(run));
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  encrypted = await ingest('enc', true);
  plain = await ingest('plain', false);
}, 240_000);

afterAll(async () => {
  await new Promise<void>((r) => (site ? site.close(() => r()) : r()));
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('payload encryption (TWINFLOW_CODEC_KEYS)', () => {
  it('ingests as usual with the codec on: the client decodes the result', () => {
    expect(encrypted.result.documents.loaded).toBe(1);
    expect(encrypted.result.documents.failed).toMatchObject({ not_found: 1 });
    expect(plain.result.documents.loaded).toBe(1);
  });

  it('leaves nothing of the page readable in the Temporal database; without the codec its location is there in plaintext', async () => {
    // The control first: the unencrypted run's page location is in the database (the check can see a leak).
    expect(await waitForWrite(slug('plain'))).toBe(true);
    // Its workflow id is in plaintext either way, so the encrypted run has been written by now too.
    expect(await waitForWrite(encrypted.workflowId)).toBe(true);
    const db = database();
    expect(db.includes(Buffer.from(slug('enc')))).toBe(false);
    expect(db.includes(Buffer.from(`missing-${slug('enc')}`))).toBe(false);
    expect(db.includes(Buffer.from(sentence('enc')))).toBe(false);
    // Claim check: document text is never in Temporal, with or without the codec.
    expect(db.includes(Buffer.from(sentence('plain')))).toBe(false);
  });

  describe('the codec server, with payloads from that run history as the Web UI sends them', () => {
    const origin = 'http://127.0.0.1:18233';
    let server: RunningCodecServer;
    let raw: Client;
    let connection: Connection;
    beforeAll(async () => {
      const config = testConfig({ TWINFLOW_CODEC_KEYS: KEYS });
      server = await startCodecServer({ codec: new AesGcmCodec(config.codec.keys), namespace: config.temporal.namespace, corsOrigin: origin, host: '127.0.0.1', port: 0 });
      // A client without the codec sees what the server stores and the UI receives: ciphertext.
      connection = await Connection.connect({ address: config.temporal.address });
      raw = new Client({ connection, namespace: config.temporal.namespace });
    });
    afterAll(async () => {
      await server?.close();
      await connection?.close();
    });

    it('decodes the encrypted input and result back to the JSON the workflow saw', async () => {
      const history = await raw.workflow.getHandle(encrypted.workflowId).fetchHistory();
      const events = history.events ?? [];
      const inputPayloads = events[0]!.workflowExecutionStartedEventAttributes!.input!.payloads! as Payload[];
      const resultPayloads = events.find((e) => e.workflowExecutionCompletedEventAttributes)!.workflowExecutionCompletedEventAttributes!.result!.payloads! as Payload[];
      for (const p of [...inputPayloads, ...resultPayloads]) {
        expect(new TextDecoder().decode(p.metadata!.encoding!)).toBe(ENCODING);
        expect(new TextDecoder().decode(p.metadata![KEY_ID_METADATA]!)).toBe('it-new');
      }

      const decode = async (payloads: Payload[]) => {
        const res = await fetch(`${server.url}/decode`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin, 'x-namespace': 'default' },
          body: JSON.stringify({ payloads: payloads.map(toJsonPayload) }),
        });
        expect(res.status).toBe(200);
        expect(res.headers.get('access-control-allow-origin')).toBe(origin);
        const body = (await res.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
        return body.payloads.map((p) =>
          defaultPayloadConverter.fromPayload({ metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])), data: Buffer.from(p.data, 'base64') }),
        );
      };
      const [input] = (await decode(inputPayloads)) as [IngestInput];
      expect(input.collection).toBe('codec_enc');
      expect(JSON.stringify(input.sources)).toContain(slug('enc'));
      const [result] = (await decode(resultPayloads)) as [IngestResult];
      expect(result).toEqual(JSON.parse(JSON.stringify(encrypted.result)));
    });
  });
});
