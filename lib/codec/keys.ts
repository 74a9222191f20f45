/**
 * The payload codec's keys, from TWINFLOW_CODEC_KEYS: `id:base64key` pairs separated by commas, each key 32 bytes
 * (AES-256). The last pair is the newest: new payloads are encrypted with it, and every listed key still decrypts,
 * so a rotation appends a key and drops the old one only once no history that needs it is kept.
 *
 *   TWINFLOW_CODEC_KEYS=2026-01:8Jm...=,2026-07:Qx1...=
 *
 * Generate a key with `openssl rand -base64 32` (or `node -e "console.log(crypto.randomBytes(32).toString('base64'))"`).
 */
import { z } from 'zod';

export interface CodecKey {
  /** Stored in each payload's metadata, so a decoder knows which key to use; not secret. */
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

export const KEY_BYTES = 32;
const ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses the variable's value; each problem names the pair (by position and id, never by key material). */
export function parseCodecKeys(value: string): CodecKey[] {
  const pairs = value.split(',').map((p) => p.trim()).filter(Boolean);
  if (pairs.length === 0) throw new Error('expected id:base64key pairs separated by commas');
  const keys: CodecKey[] = [];
  pairs.forEach((pair, i) => {
    const colon = pair.indexOf(':');
    const where = `pair ${i + 1}`;
    if (colon <= 0) throw new Error(`${where}: expected id:base64key (an id, a colon, then the key in base64)`);
    const id = pair.slice(0, colon);
    const encoded = pair.slice(colon + 1);
    if (!ID.test(id)) throw new Error(`${where}: key id ${JSON.stringify(id)} may use only letters, digits, ".", "_" and "-" (at most 64)`);
    if (!BASE64.test(encoded)) throw new Error(`${where} (id ${id}): the key is not base64`);
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== KEY_BYTES) throw new Error(`${where} (id ${id}): the key is ${key.length} bytes, AES-256 needs ${KEY_BYTES} (make one with \`openssl rand -base64 32\`)`);
    if (keys.some((k) => k.id === id)) throw new Error(`${where}: key id ${id} is listed twice`);
    keys.push({ id, key });
  });
  return keys;
}

/** zod schema for the variable (lib/config.ts): the error message names the problem, the variable is the path. */
export const codecKeysSchema = z.string().transform((value, ctx) => {
  try {
    return parseCodecKeys(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});
