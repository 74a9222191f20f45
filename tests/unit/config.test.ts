import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config';

describe('loadConfig', () => {
  it('defaults to the local stack', () => {
    const c = loadConfig({});
    expect(c.temporal.address).toBe('127.0.0.1:7233');
    expect(c.temporal.namespace).toBe('default');
    expect(c.temporal.taskQueue).toBe('twinflow');
    expect(c.temporal.gpuTaskQueue).toBe('gpu-a6000');
    expect(c.s3.endpoint).toBe('http://127.0.0.1:9000');
    expect(c.s3.accessKeyId).toBe('minioadmin');
    expect(c.s3.forcePathStyle).toBe(true);
    expect(c.vectorStore.kind).toBe('lancedb');
    expect(c.embedding.provider).toBe('local');
  });

  it('derives addresses from ports and honours explicit settings', () => {
    const c = loadConfig({ TWINFLOW_TEMPORAL_PORT: '17233', TWINFLOW_MINIO_PORT: '19000', TWINFLOW_GPU_TASK_QUEUE: 'gpu-h100' });
    expect(c.temporal.address).toBe('127.0.0.1:17233');
    expect(c.s3.endpoint).toBe('http://127.0.0.1:19000');
    expect(c.temporal.gpuTaskQueue).toBe('gpu-h100');
    const aws = loadConfig({ S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com', S3_FORCE_PATH_STYLE: 'false', AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK' });
    expect(aws.s3.forcePathStyle).toBe(false);
    expect(aws.s3.accessKeyId).toBe('AK');
  });

  it('does not invent MinIO credentials for a remote S3 endpoint', () => {
    const c = loadConfig({ S3_ENDPOINT: 'https://s3.amazonaws.com' });
    expect(c.s3.accessKeyId).toBe('');
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ TWINFLOW_TEMPORAL_PORT: '' }).stack.temporalPort).toBe(7233);
  });

  it.each([
    ['TWINFLOW_MINIO_PORT', 'abc', /TWINFLOW_MINIO_PORT: expected a port number \(1-65535\), got "abc"/],
    ['TWINFLOW_TEMPORAL_PORT', '70000', /TWINFLOW_TEMPORAL_PORT: expected a port number/],
    ['VECTOR_STORE', 'pinecone', /VECTOR_STORE: expected lancedb or qdrant, got "pinecone"/],
    ['S3_ENDPOINT', 'not a url', /S3_ENDPOINT: expected a URL/],
    ['S3_BUCKET', 'Bad_Bucket', /S3_BUCKET: expected an S3 bucket name/],
    ['TWINFLOW_MAX_CONCURRENT_ACTIVITIES', '0', /TWINFLOW_MAX_CONCURRENT_ACTIVITIES: expected a positive integer/],
    ['TEMPORAL_TLS', 'maybe', /TEMPORAL_TLS: expected true or false/],
  ])('rejects %s=%s with a message naming the variable', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('reports every bad variable on one line', () => {
    try {
      loadConfig({ TWINFLOW_MINIO_PORT: 'x', VECTOR_STORE: 'y' });
      expect.unreachable();
    } catch (err) {
      const msg = (err as Error).message;
      expect(msg).not.toContain('\n');
      expect(msg).toContain('TWINFLOW_MINIO_PORT');
      expect(msg).toContain('VECTOR_STORE');
    }
  });
});
