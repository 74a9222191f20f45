/**
 * Model folders named by workflow input (a base model, merged weights, an adapter, a DPO pairs file) are local paths
 * like any other: the GPU worker reads them only under TWINFLOW_ALLOW_PATHS. Hub ids and s3:// prefixes are not
 * local; the commands' in-process workers allow exactly the folders their own input names.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { afterAll, describe, expect, it } from 'vitest';
import { checkModelPath } from '../../../activities/gpu/shared';
import { localPathsOfModelEval, localPathsOfTrain } from '../../../cli/shared/local-workers';
import type { TrainInput } from '../../../lib/schemas/train';
import { isLocalModelPath, type ResourcePolicy } from '../../../lib/security/resources';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-model-paths-'));
const allowed = path.join(root, 'models');
const outside = path.join(root, 'private');
fs.mkdirSync(path.join(allowed, 'tiny'), { recursive: true });
fs.mkdirSync(outside, { recursive: true });
const policy: ResourcePolicy = { paths: [allowed], buckets: [] };
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('isLocalModelPath', () => {
  it('tells folders on this machine from Hub ids and S3 prefixes', () => {
    expect(isLocalModelPath('/opt/models/llama')).toBe(true);
    expect(isLocalModelPath('./out/adapter')).toBe(true);
    expect(isLocalModelPath('../weights')).toBe(true);
    expect(isLocalModelPath(path.relative(process.cwd(), path.join(allowed, 'tiny')))).toBe(true); // exists here
    expect(isLocalModelPath('meta-llama/Llama-3.1-8B')).toBe(false);
    expect(isLocalModelPath('s3://twinflow/runs/x/model/adapter/')).toBe(false);
  });
});

describe('checkModelPath', () => {
  it('lets a Hub id, an s3:// prefix and a folder under an allowed root through', () => {
    expect(() => checkModelPath(policy, 'meta-llama/Llama-3.1-8B', 'model.baseModel')).not.toThrow();
    expect(() => checkModelPath(policy, 's3://twinflow/models/tiny/', 'model.baseModel')).not.toThrow();
    expect(() => checkModelPath(policy, path.join(allowed, 'tiny'), 'model.baseModel')).not.toThrow();
  });

  it('refuses a folder outside the allowed roots, without retries, naming the field and the setting', () => {
    let err: unknown;
    try {
      checkModelPath(policy, outside, 'adapter');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).type).toBe('NotAllowed');
    expect((err as Error).message).toMatch(/^adapter .*private is outside the paths this worker allows \(TWINFLOW_ALLOW_PATHS: .*models\)/);
    // A way out of the root through '..' is the same refusal.
    expect(() => checkModelPath(policy, path.join(allowed, '..', 'private'), 'model.baseModel')).toThrow(/model.baseModel .* is outside the paths/);
    expect(() => checkModelPath({ paths: [], buckets: [] }, '/etc', 'model.baseModel')).toThrow(/TWINFLOW_ALLOW_PATHS: none/);
  });
});

describe('the paths in-process workers allow', () => {
  it('a train input: its records file and a local base model, not a Hub id', () => {
    const input = { dataset: { source: { kind: 'records', uri: 'file:///data/companies.jsonl' } }, model: { baseModel: '/opt/tiny' } } as unknown as TrainInput;
    expect(localPathsOfTrain(input)).toEqual(['/data/companies.jsonl', '/opt/tiny']);
    const hub = { dataset: { source: { kind: 'records', uri: 's3://b/records.jsonl' } }, model: { baseModel: 'meta-llama/Llama-3.1-8B' } } as unknown as TrainInput;
    expect(localPathsOfTrain(hub)).toEqual([]);
  });

  it('an evaluateModel input: each local base model and adapter', () => {
    const input = {
      name: 'cmp',
      dataset: { manifestUri: 's3://b/m.json' },
      models: [
        { name: 'a', baseModel: 'org/base', adapter: './out/adapter' },
        { name: 'b', baseModel: '/opt/merged', kind: 'merged' as const },
        { name: 'c', baseModel: 'org/base', adapter: 's3://b/runs/x/model/adapter/' },
      ],
    };
    expect(localPathsOfModelEval(input)).toEqual(['./out/adapter', '/opt/merged']);
  });
});
