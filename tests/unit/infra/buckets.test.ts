/** infra/buckets.ts: the webhook target's MinIO environment and the notifications set on a bucket (a recording S3 client). */
import { GetBucketNotificationConfigurationCommand, PutBucketNotificationConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { configureBucketNotifications, minioWebhookEnv, WEBHOOK_TARGET_ARN } from '../../../infra/buckets';
import { stackOptionsFromConfig } from '../../../infra/stack';
import { loadConfig } from '../../../lib/config';

function recordingS3(current: Record<string, unknown>) {
  const puts: Array<Record<string, unknown>> = [];
  const client = {
    send: async (cmd: unknown) => {
      if (cmd instanceof GetBucketNotificationConfigurationCommand) return current;
      if (cmd instanceof PutBucketNotificationConfigurationCommand) return void puts.push(cmd.input as unknown as Record<string, unknown>);
      throw new Error('unexpected command');
    },
  };
  return { client: client as unknown as S3Client, puts };
}

describe('bucket set-up', () => {
  it('minioWebhookEnv configures the TWINFLOW target with a bearer token and a queue folder', () => {
    expect(minioWebhookEnv('http://127.0.0.1:8787/events', 's3cret', '/q')).toEqual({
      MINIO_NOTIFY_WEBHOOK_ENABLE_TWINFLOW: 'on',
      MINIO_NOTIFY_WEBHOOK_ENDPOINT_TWINFLOW: 'http://127.0.0.1:8787/events',
      MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_TWINFLOW: 'Bearer s3cret',
      MINIO_NOTIFY_WEBHOOK_QUEUE_DIR_TWINFLOW: '/q',
    });
    expect(WEBHOOK_TARGET_ARN).toBe('arn:minio:sqs::TWINFLOW:webhook');
  });

  it('replaces twinflow\'s own queue configurations per prefix and keeps every other target\'s', async () => {
    const foreign = { Id: 'theirs', QueueArn: 'arn:other', Events: ['s3:ObjectCreated:*'] };
    const topics = [{ Id: 't', TopicArn: 'arn:topic', Events: ['s3:ObjectRemoved:*'] }];
    const s3 = recordingS3({ QueueConfigurations: [foreign, { Id: 'twinflow-old/', QueueArn: WEBHOOK_TARGET_ARN }], TopicConfigurations: topics });
    await configureBucketNotifications(s3.client, {
      arn: WEBHOOK_TARGET_ARN,
      prefixes: [
        { bucket: 'b', prefix: 'inbox/' },
        { bucket: 'b', prefix: 'inbox/' },
        { bucket: 'b', prefix: 'drop/' },
      ],
    });
    expect(s3.puts).toHaveLength(1);
    const put = s3.puts[0] as { Bucket: string; NotificationConfiguration: { QueueConfigurations: Array<{ Id: string; Filter?: unknown }>; TopicConfigurations: unknown } };
    expect(put.Bucket).toBe('b');
    expect(put.NotificationConfiguration.QueueConfigurations.map((q) => q.Id)).toEqual(['theirs', 'twinflow-inbox/', 'twinflow-drop/']);
    expect(put.NotificationConfiguration.QueueConfigurations[1]).toEqual({
      Id: 'twinflow-inbox/',
      QueueArn: WEBHOOK_TARGET_ARN,
      Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'],
      Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'inbox/' }] } },
    });
    expect(put.NotificationConfiguration.TopicConfigurations).toEqual(topics);
  });

  it('stackOptionsFromConfig turns a webhook secret into MinIO\'s target, the notifications and their extra buckets', () => {
    const config = loadConfig({ TWINFLOW_HOME: '/tmp/tf-home', S3_BUCKET: 'main' });
    expect(stackOptionsFromConfig(config)).not.toHaveProperty('notifications');
    const withWebhook = { ...config, webhook: { ...config.webhook, secret: 'x'.repeat(32), notify: [{ bucket: 'other', prefix: 'in/' }, { bucket: 'main', prefix: 'a/' }] } };
    const o = stackOptionsFromConfig(withWebhook);
    expect(o.notifications).toEqual({ arn: WEBHOOK_TARGET_ARN, prefixes: withWebhook.webhook.notify });
    expect(o.extraBuckets).toEqual(['other']);
    expect(o.minioEnv?.MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_TWINFLOW).toBe(`Bearer ${'x'.repeat(32)}`);
  });
});
