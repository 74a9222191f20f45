/**
 * The data converter every twinflow client and worker uses: Temporal's default, plus the AES-GCM payload codec when
 * TWINFLOW_CODEC_KEYS is set. Codecs run outside the workflow sandbox (on the payloads a worker or client sends and
 * receives), so the workflow bundle is the same with and without encryption.
 */
import type { DataConverter } from '@temporalio/common';
import type { Config } from '../config';
import { AesGcmCodec } from './aes-gcm';

export { AesGcmCodec, PayloadDecryptionError, ENCODING, KEY_ID_METADATA, CIPHER_METADATA, CIPHER } from './aes-gcm';
export { parseCodecKeys, codecKeysSchema, type CodecKey } from './keys';

/** The codec of this configuration, or undefined when payload encryption is off (the default). */
export function payloadCodec(config: Pick<Config, 'codec'>): AesGcmCodec | undefined {
  return config.codec.keys.length > 0 ? new AesGcmCodec(config.codec.keys) : undefined;
}

/** For `new Client`, `Worker.create` and friends: `{ dataConverter }` when encryption is on, else `{}`. */
export function dataConverterOptions(config: Pick<Config, 'codec'>): { dataConverter?: DataConverter } {
  const codec = payloadCodec(config);
  return codec ? { dataConverter: { payloadCodecs: [codec] } } : {};
}
