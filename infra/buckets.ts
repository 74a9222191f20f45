/**
 * Bucket set-up of the stack's MinIO, once it answers: the buckets twinflow writes to, and (with a webhook secret)
 * bucket notifications that post the inbox prefixes' object events to `twinflow webhook serve`.
 */
import {
  type Event,
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ArtifactStore, createS3Client } from '../lib/artifacts';
import { StackError } from './processes';

/** MinIO's id of twinflow's webhook target: its env vars end in _TWINFLOW and its ARN is arn:minio:sqs::TWINFLOW:webhook. */
export const WEBHOOK_TARGET_ID = 'TWINFLOW';
export const WEBHOOK_TARGET_ARN = `arn:minio:sqs::${WEBHOOK_TARGET_ID}:webhook`;

export interface BucketNotifications {
  /** The target's ARN (WEBHOOK_TARGET_ARN for the target that minioWebhookEnv configures). */
  arn: string;
  prefixes: Array<{ bucket: string; prefix: string }>;
}

/**
 * MinIO's environment for a webhook target that posts bucket events to `endpoint` with the shared secret. Events wait
 * in `queueDir` while the endpoint is down and are delivered when it is back.
 */
export function minioWebhookEnv(endpoint: string, secret: string, queueDir: string): Record<string, string> {
  return {
    [`MINIO_NOTIFY_WEBHOOK_ENABLE_${WEBHOOK_TARGET_ID}`]: 'on',
    [`MINIO_NOTIFY_WEBHOOK_ENDPOINT_${WEBHOOK_TARGET_ID}`]: endpoint,
    [`MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_${WEBHOOK_TARGET_ID}`]: `Bearer ${secret}`,
    [`MINIO_NOTIFY_WEBHOOK_QUEUE_DIR_${WEBHOOK_TARGET_ID}`]: queueDir,
  };
}

/**
 * Points the buckets' object-created/removed events under each prefix at the webhook target. Notification
 * configurations of other targets on those buckets are kept; twinflow's own (by id) are replaced, so this is
 * idempotent.
 */
export async function configureBucketNotifications(s3: S3Client, n: BucketNotifications): Promise<void> {
  const byBucket = new Map<string, string[]>();
  for (const { bucket, prefix } of n.prefixes) byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), prefix]);
  for (const [Bucket, prefixes] of byBucket) {
    const current = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket }));
    const others = (current.QueueConfigurations ?? []).filter((q) => !q.Id?.startsWith('twinflow-'));
    const ours = [...new Set(prefixes)].map((prefix) => ({
      Id: `twinflow-${prefix}`,
      QueueArn: n.arn,
      Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'] as Event[],
      Filter: { Key: { FilterRules: [{ Name: 'prefix' as const, Value: prefix }] } },
    }));
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket,
        NotificationConfiguration: {
          QueueConfigurations: [...others, ...ours],
          TopicConfigurations: current.TopicConfigurations,
          LambdaFunctionConfigurations: current.LambdaFunctionConfigurations,
        },
      }),
    );
  }
}

export interface BucketSetup {
  /** MinIO's S3 endpoint, e.g. http://127.0.0.1:9000. */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Buckets to create where missing: the first is the artifact bucket. */
  buckets: string[];
  notifications?: BucketNotifications;
}

/** Creates the buckets (idempotent) and configures the notifications, if any. */
export async function setUpBuckets(b: BucketSetup, log: (l: string) => void): Promise<void> {
  const s3 = createS3Client({
    endpoint: b.endpoint,
    region: 'us-east-1',
    bucket: b.buckets[0]!,
    forcePathStyle: true,
    accessKeyId: b.accessKeyId,
    secretAccessKey: b.secretAccessKey,
  });
  try {
    for (const bucket of b.buckets) await new ArtifactStore(s3, bucket).ensureBucket();
    if (b.notifications && b.notifications.prefixes.length > 0) {
      try {
        await configureBucketNotifications(s3, b.notifications);
        log(`minio: bucket notifications → webhook for ${b.notifications.prefixes.map((p) => `${p.bucket}/${p.prefix}`).join(', ')}`);
      } catch (err) {
        // A MinIO started earlier without the webhook target does not know its ARN: it needs a restart to load it.
        throw new StackError(
          `could not configure bucket notifications (${(err as Error).message}); if MinIO was started before the webhook was configured, run \`twinflow stack down\` and \`twinflow stack up\` again`,
        );
      }
    }
  } finally {
    s3.destroy();
  }
}
