/**
 * S3 / MinIO bucket event notifications (the "S3 event JSON"): what the webhook accepts, validated, with object keys
 * decoded. Keys arrive URL-encoded the way HTML forms encode them ("+" for a space), so `a b+c.md` comes as
 * `a+b%2Bc.md`.
 */
import { z } from 'zod';
import { formatZodError } from '../../lib/schemas/validate';

const recordSchema = z.looseObject({
  eventName: z.string({ error: 'expected an event name such as s3:ObjectCreated:Put' }).min(1),
  s3: z.looseObject({
    bucket: z.looseObject({ name: z.string({ error: 'expected the bucket name' }).min(1) }),
    object: z.looseObject({ key: z.string({ error: 'expected the object key' }).min(1) }),
  }),
});

const notificationSchema = z.looseObject({
  Records: z.array(recordSchema, { error: 'expected Records: an array of S3 event records' }),
});

export type ObjectEventKind = 'put' | 'delete';

export interface ObjectEvent {
  kind: ObjectEventKind;
  eventName: string;
  bucket: string;
  /** Decoded. */
  key: string;
}

export class MalformedEventError extends Error {
  override name = 'MalformedEventError';
}

/** "inbox%2Fa+b%2Bc.md" → "inbox/a b+c.md". */
export function decodeEventKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    throw new MalformedEventError(`object key ${JSON.stringify(key)} is not valid URL encoding`);
  }
}

export function eventKind(eventName: string): ObjectEventKind | undefined {
  const name = eventName.replace(/^s3:/, '');
  if (name.startsWith('ObjectCreated:')) return 'put';
  if (name.startsWith('ObjectRemoved:')) return 'delete';
  return undefined;
}

export interface ParsedNotification {
  events: ObjectEvent[];
  /** Records of other event types (e.g. s3:ObjectAccessed:Get): not errors, nothing to sync. */
  ignored: number;
  /** An S3 test event (sent when a notification configuration is saved): nothing to do. */
  test: boolean;
}

/** Parses a notification body; throws MalformedEventError naming what is wrong. */
export function parseNotification(body: unknown): ParsedNotification {
  if (body && typeof body === 'object' && (body as { Event?: unknown }).Event === 's3:TestEvent') return { events: [], ignored: 0, test: true };
  const parsed = notificationSchema.safeParse(body);
  if (!parsed.success) throw new MalformedEventError(`not an S3 event notification: ${formatZodError(parsed.error)}`);
  const events: ObjectEvent[] = [];
  let ignored = 0;
  for (const r of parsed.data.Records) {
    const kind = eventKind(r.eventName);
    if (!kind) {
      ignored += 1;
      continue;
    }
    events.push({ kind, eventName: r.eventName, bucket: r.s3.bucket.name, key: decodeEventKey(r.s3.object.key) });
  }
  return { events, ignored, test: false };
}
