/**
 * An AES-256-GCM PayloadCodec: every payload that leaves a client or a worker is encrypted before Temporal stores it,
 * so the server's database (and anyone who reads it, or the Web UI without the key) sees only ciphertext.
 *
 * An encrypted payload:
 *   metadata.encoding          "binary/encrypted"
 *   metadata.encryption-key-id the id of the key (TWINFLOW_CODEC_KEYS), so rotated keys still decrypt old history
 *   metadata.encryption-cipher "AES-256-GCM"
 *   data                       IV (12 random bytes, new for every payload) | ciphertext | GCM tag (16 bytes)
 * The plaintext is the original Payload message in protobuf (metadata and data together), so its encoding
 * ("json/plain", "binary/null" ...) is hidden too and comes back as it was. The key id is bound to the ciphertext as
 * GCM additional data: changing the id, the IV, the ciphertext or the tag all fail authentication.
 *
 * Payloads that are not encrypted decode unchanged: history written before the codec was turned on still reads.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
// A CommonJS package: Node's ESM loader sees only its default export.
import proto from '@temporalio/proto';
import type { CodecKey } from './keys';

export const ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
export const CIPHER_METADATA = 'encryption-cipher';
export const CIPHER = 'AES-256-GCM';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const te = new TextEncoder();
const td = new TextDecoder();
const ProtoPayload = proto.temporal.api.common.v1.Payload;

/** A payload that cannot be decrypted: unknown key id, tampered or truncated bytes. The message says which. */
export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
}

export class AesGcmCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  private readonly newest: CodecKey;

  constructor(keys: CodecKey[]) {
    if (keys.length === 0) throw new Error('AesGcmCodec needs at least one key (TWINFLOW_CODEC_KEYS)');
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
    this.newest = keys[keys.length - 1]!;
  }

  /** The id new payloads are encrypted with. */
  get keyId(): string {
    return this.newest.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encrypt(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.decrypt(p));
  }

  encrypt(payload: Payload): Payload {
    const plain = ProtoPayload.encode(ProtoPayload.create(payload)).finish();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.newest.key, iv);
    cipher.setAAD(te.encode(this.newest.id));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return {
      metadata: { encoding: te.encode(ENCODING), [KEY_ID_METADATA]: te.encode(this.newest.id), [CIPHER_METADATA]: te.encode(CIPHER) },
      data: Buffer.concat([iv, body, cipher.getAuthTag()]),
    };
  }

  decrypt(payload: Payload): Payload {
    const meta = payload.metadata ?? {};
    if (!meta.encoding || td.decode(meta.encoding) !== ENCODING) return payload;
    const idBytes = meta[KEY_ID_METADATA];
    if (!idBytes) throw new PayloadDecryptionError(`an encrypted payload has no ${KEY_ID_METADATA} metadata: it was not written by twinflow's codec`);
    const id = td.decode(idBytes);
    const cipherName = meta[CIPHER_METADATA] ? td.decode(meta[CIPHER_METADATA]) : CIPHER;
    if (cipherName !== CIPHER) throw new PayloadDecryptionError(`an encrypted payload uses cipher ${JSON.stringify(cipherName)}; this codec decrypts only ${CIPHER}`);
    const key = this.byId.get(id);
    if (!key) {
      throw new PayloadDecryptionError(
        `a payload is encrypted with key id ${JSON.stringify(id)}, which is not in TWINFLOW_CODEC_KEYS (known ids: ${[...this.byId.keys()].join(', ')}); add that key back to decrypt it`,
      );
    }
    const data = payload.data ?? new Uint8Array();
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError(`an encrypted payload (key id ${id}) is too short (${data.length} bytes): truncated`);
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(te.encode(id));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(`an encrypted payload (key id ${id}) failed authentication: it was altered, or the key listed under that id is not the one it was written with`);
    }
    const decoded = ProtoPayload.decode(plain);
    return { metadata: decoded.metadata ?? {}, data: decoded.data ?? new Uint8Array() };
  }
}
