/**
 * The AES-256-GCM payload codec and its keys: rotation (the newest key encrypts, every listed key decrypts), tamper
 * and unknown-key errors, configuration errors that name the problem without echoing key material, and the codec
 * server's HTTP protocol (real HTTP on 127.0.0.1).
 */
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AesGcmCodec, dataConverterOptions, ENCODING, KEY_ID_METADATA, parseCodecKeys, PayloadDecryptionError } from '../../../lib/codec';
import { fromJsonPayload, type RunningCodecServer, startCodecServer, toJsonPayload } from '../../../lib/codec/server';
import { ConfigError, loadConfig } from '../../../lib/config';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const td = new TextDecoder();
const value = { text: 'The lighthouse keeper counted forty-one gulls before noon.' };
const plainPayload = () => defaultPayloadConverter.toPayload(value)!;
const keyIdOf = (p: Payload) => td.decode(p.metadata![KEY_ID_METADATA]!);

describe('AesGcmCodec', () => {
  it('encrypts with a fresh IV per payload, hides the encoding, and decodes back to the same payload', async () => {
    const codec = new AesGcmCodec(parseCodecKeys(`k1:${k1}`));
    const [a, b] = await codec.encode([plainPayload(), plainPayload()]);
    expect(td.decode(a!.metadata!.encoding!)).toBe(ENCODING);
    expect(Buffer.from(a!.data!).toString('latin1')).not.toContain('lighthouse');
    expect(Buffer.from(a!.data!).toString('latin1')).not.toContain('json/plain');
    // Same plaintext, same key: different ciphertexts (random 96-bit IV each time).
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
    const [back] = await codec.decode([a!]);
    expect(td.decode(back!.metadata!.encoding!)).toBe('json/plain');
    expect(defaultPayloadConverter.fromPayload(back!)).toEqual(value);
  });

  it('rotation: new payloads carry the newest key id, payloads of the old key still decrypt, a dropped key is a clear error', async () => {
    const before = new AesGcmCodec(parseCodecKeys(`old:${k1}`));
    const [oldPayload] = await before.encode([plainPayload()]);
    expect(keyIdOf(oldPayload!)).toBe('old');

    const rotated = new AesGcmCodec(parseCodecKeys(`old:${k1},new:${k2}`));
    expect(rotated.keyId).toBe('new');
    const [newPayload] = await rotated.encode([plainPayload()]);
    expect(keyIdOf(newPayload!)).toBe('new');
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([oldPayload!]))[0]!)).toEqual(value);
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([newPayload!]))[0]!)).toEqual(value);

    // The old key removed: its payloads name the missing id and the variable.
    const onlyNew = new AesGcmCodec(parseCodecKeys(`new:${k2}`));
    await expect(onlyNew.decode([oldPayload!])).rejects.toThrow(/key id "old", which is not in TWINFLOW_CODEC_KEYS \(known ids: new\)/);
  });

  it('tampering with the ciphertext, the IV, the tag or the key id fails authentication', async () => {
    const codec = new AesGcmCodec(parseCodecKeys(`a:${k1},b:${k2}`));
    const [good] = await codec.encode([plainPayload()]);
    const flip = (at: number) => {
      const data = Buffer.from(good!.data!);
      data[at] = data[at]! ^ 0x01;
      return { metadata: good!.metadata, data };
    };
    for (const at of [0, 20, good!.data!.length - 1]) {
      await expect(codec.decode([flip(at)])).rejects.toThrow(PayloadDecryptionError);
      await expect(codec.decode([flip(at)])).rejects.toThrow(/failed authentication/);
    }
    // The key id is bound as additional data: relabelling a payload "a" (also a known key) does not decrypt it.
    const relabelled = { metadata: { ...good!.metadata, [KEY_ID_METADATA]: new TextEncoder().encode('a') }, data: good!.data };
    await expect(codec.decode([relabelled])).rejects.toThrow(/key id a\) failed authentication/);
    await expect(codec.decode([{ metadata: good!.metadata, data: good!.data!.subarray(0, 10) }])).rejects.toThrow(/truncated/);
  });

  it('leaves payloads that were never encrypted as they are (history from before the codec was turned on)', async () => {
    const codec = new AesGcmCodec(parseCodecKeys(`a:${k1}`));
    const p = plainPayload();
    expect(await codec.decode([p])).toEqual([p]);
  });
});

describe('TWINFLOW_CODEC_KEYS', () => {
  it('is off by default: no data converter, no keys', () => {
    const config = loadConfig({});
    expect(config.codec.keys).toEqual([]);
    expect(dataConverterOptions(config)).toEqual({});
    expect(dataConverterOptions(loadConfig({ TWINFLOW_CODEC_KEYS: `a:${k1}` })).dataConverter?.payloadCodecs).toHaveLength(1);
  });

  it.each([
    ['nocolon', /pair 1: expected id:base64key/],
    [`bad id!:${k1}`, /key id "bad id!" may use only/],
    ['a:not*base64', /pair 1 \(id a\): the key is not base64/],
    [`a:${randomBytes(16).toString('base64')}`, /the key is 16 bytes, AES-256 needs 32/],
    [`a:${k1},a:${k2}`, /pair 2: key id a is listed twice/],
  ])('%s is refused with a reason that never shows the key', (value, reason) => {
    let message = '';
    try {
      loadConfig({ TWINFLOW_CODEC_KEYS: value });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/^Invalid configuration: TWINFLOW_CODEC_KEYS: /);
    expect(message).toMatch(reason);
    expect(message).not.toContain(k1);
    expect(message).not.toContain(k2);
  });

  it('the codec server CORS origin defaults to the Web UI origin', () => {
    expect(loadConfig({}).codec.server.corsOrigin).toBe('http://127.0.0.1:8233');
    expect(loadConfig({ TEMPORAL_UI_URL: 'https://temporal.example.com/ui/' }).codec.server.corsOrigin).toBe('https://temporal.example.com');
    expect(loadConfig({ TWINFLOW_CODEC_CORS_ORIGIN: 'https://ui.example.com' }).codec.server.corsOrigin).toBe('https://ui.example.com');
  });
});

describe('codec server (HTTP on 127.0.0.1)', () => {
  const origin = 'http://127.0.0.1:8233';
  const token = 'codec-server-token-0123456789';
  const codec = new AesGcmCodec(parseCodecKeys(`a:${k1}`));
  let server: RunningCodecServer;
  let open: RunningCodecServer;
  beforeAll(async () => {
    server = await startCodecServer({ codec, namespace: 'default', corsOrigin: origin, token, host: '127.0.0.1', port: 0, rateLimitPerMinute: 1000 });
    open = await startCodecServer({ codec, namespace: 'default', corsOrigin: origin, host: '127.0.0.1', port: 0, rateLimitPerMinute: 3 });
  });
  afterAll(async () => {
    await server?.close();
    await open?.close();
  });
  const post = (base: string, op: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/${op}`, { method: 'POST', headers: { 'content-type': 'application/json', origin, 'x-namespace': 'default', authorization: `Bearer ${token}`, ...headers }, body: JSON.stringify(body) });

  it('encodes and decodes payloads in the protocol JSON (base64 metadata and data), as the Web UI sends them', async () => {
    const encoded = await post(server.url, 'encode', { payloads: [toJsonPayload(plainPayload())] });
    expect(encoded.status).toBe(200);
    expect(encoded.headers.get('access-control-allow-origin')).toBe(origin);
    const { payloads } = (await encoded.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
    expect(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString()).toBe(ENCODING);
    const decoded = await post(server.url, 'decode', { payloads });
    const body = (await decoded.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
    expect(defaultPayloadConverter.fromPayload(fromJsonPayload(body.payloads[0]!))).toEqual(value);
  });

  it('answers the CORS preflight for the Web UI origin only', async () => {
    const preflight = (o: string) =>
      fetch(`${server.url}/decode`, { method: 'OPTIONS', headers: { origin: o, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace,authorization' } });
    const ok = await preflight(origin);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(origin);
    expect(ok.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-namespace');
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    const other = await preflight('https://evil.example.com');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('needs the bearer token when one is set, and the namespace it holds keys for', async () => {
    const noToken = await post(server.url, 'decode', { payloads: [] }, { authorization: '' });
    expect(noToken.status).toBe(401);
    expect(await noToken.json()).toEqual({ error: expect.stringContaining('TWINFLOW_CODEC_TOKEN') });
    expect((await post(server.url, 'decode', { payloads: [] }, { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
    const otherNs = await post(server.url, 'decode', { payloads: [] }, { 'x-namespace': 'prod' });
    expect(otherNs.status).toBe(403);
    expect(((await otherNs.json()) as { error: string }).error).toMatch(/namespace "default", not "prod"/);
  });

  it('a payload it cannot decrypt is a 400 naming the reason, with no stack trace; bad bodies are 400s', async () => {
    const other = new AesGcmCodec(parseCodecKeys(`z:${k2}`));
    const [foreign] = await other.encode([plainPayload()]);
    const res = await post(server.url, 'decode', { payloads: [toJsonPayload(foreign!)] });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: expect.stringMatching(/key id "z", which is not in TWINFLOW_CODEC_KEYS/) });
    expect(text).not.toMatch(/\bat .*\.ts:\d+/);
    expect((await post(server.url, 'decode', { nope: 1 })).status).toBe(400);
    expect((await post(server.url, 'decode', { payloads: [{ data: '***' }] })).status).toBe(400);
  });

  it('limits requests per client address (429 with Retry-After)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(open.url, 'decode', { payloads: [] })).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const limited = await post(open.url, 'decode', { payloads: [] });
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await limited.json()).toEqual({ error: expect.stringContaining('TWINFLOW_CODEC_RATE_LIMIT') });
  });
});
