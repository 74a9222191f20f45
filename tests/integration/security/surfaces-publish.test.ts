/**
 * Publishing to the Hub safely (#12): an existing repository's visibility is checked against `publish.private` (a
 * private model never goes into a public repository), and a retried commit never lands twice (a marker of the run in
 * the commit message, and parentCommit against a concurrent commit). The publish activity runs for real against
 * MinIO (the adapter is read from S3) and the wire-format Hub stand-in on 127.0.0.1 (tests/helpers/hf-hub-server.ts).
 */
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeps } from '../../../activities/deps';
import { createPublishActivities, type PublishInput } from '../../../activities/publish';
import type { PublishResult } from '../../../lib/schemas/train';
import { testConfig } from '../../harness/stack';
import { type HfHubServer, startHfHubServer } from '../../helpers/hf-hub-server';
import { publishInput, uploadTinyAdapter } from '../../helpers/publish-input';

const HF_TOKEN = 'hf_test_publish_token_0123';
const run = randomUUID();
let hub: HfHubServer;
let adapterUri: string;

const input = (publish: object): PublishInput => publishInput(adapterUri, { gate: { minRougeLsum: 0.4 }, ...publish });

/** One workflow run's activity (its attempts share the workflow and run ids). */
const attemptOf = (runId: string) => new MockActivityEnvironment({ workflowExecution: { workflowId: `train-${run}`, runId } });
const publishModel = () => createPublishActivities(createDeps(testConfig({ HF_HUB_URL: hub.url, HF_TOKEN }))).publishModel;
const commitRequests = (repo: string) => hub.requests.filter((q) => q.method === 'POST' && q.path === `/api/models/${repo}/commit/main`);

beforeAll(async () => {
  hub = await startHfHubServer({ token: HF_TOKEN });
  const deps = createDeps(testConfig());
  await deps.artifacts.ensureBucket();
  adapterUri = await uploadTinyAdapter(deps.artifacts, `test-inputs/${run}/adapter`);
});

afterAll(async () => {
  await hub?.close();
});

describe('publish: repository visibility', () => {
  it('refuses to push a private model into an existing public repository, without retry and without a commit', async () => {
    hub.addRepo('acme/public-one', { private: false });
    const err = await attemptOf('r1').run(publishModel(), input({ repo: 'acme/public-one', private: true })).catch((e: unknown) => e);
    expect(err).toMatchObject({ nonRetryable: true, type: 'PublishVisibility' });
    expect((err as Error).message).toMatch(/publish\.private is true but the Hub repository acme\/public-one already exists and is public/);
    expect(commitRequests('acme/public-one')).toHaveLength(0);
    expect(hub.repos.get('acme/public-one')!.files.size).toBe(0);
  });

  it('pushes into an existing private repository (private or not), and creates a new one private', async () => {
    hub.addRepo('acme/private-one', { private: true });
    expect(await attemptOf('r2').run(publishModel(), input({ repo: 'acme/private-one', private: true }))).toMatchObject({ published: true });
    expect(await attemptOf('r3').run(publishModel(), input({ repo: 'acme/private-one', private: false }))).toMatchObject({ published: true });
    expect(hub.repos.get('acme/private-one')!.commits).toHaveLength(2);
    expect(await attemptOf('r4').run(publishModel(), input({ repo: 'acme/fresh', private: true }))).toMatchObject({ published: true });
    expect(hub.repos.get('acme/fresh')!.private).toBe(true);
  });
});

describe('publish: a retried commit lands once', () => {
  it('a retry after a lost commit response finds its own commit and does not commit again', async () => {
    hub.nextCommit = 'lose-response';
    const attempt = attemptOf('lost');
    const first = await attempt.run(publishModel(), input({ repo: 'acme/retry', private: false })).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(Error); // the network error Temporal retries
    expect((first as { nonRetryable?: boolean }).nonRetryable).not.toBe(true);
    expect(hub.repos.get('acme/retry')!.commits).toHaveLength(1); // it did land

    const retried = (await attempt.run(publishModel(), input({ repo: 'acme/retry', private: false }))) as PublishResult;
    expect(retried).toMatchObject({ published: true, commitOid: hub.repos.get('acme/retry')!.commits[0]!.oid });
    expect(hub.repos.get('acme/retry')!.commits).toHaveLength(1);
    expect(commitRequests('acme/retry')).toHaveLength(1);
    expect(hub.repos.get('acme/retry')!.commits[0]!.description).toContain(`twinflow-publish: train-${run}/lost`);

    // Another run of the workflow is a new publish: it commits.
    await attemptOf('next-run').run(publishModel(), input({ repo: 'acme/retry', private: false }));
    expect(hub.repos.get('acme/retry')!.commits).toHaveLength(2);
  });

  it('builds on the head it saw: a commit that lands in between makes it fail retryably (412), and the retry commits once', async () => {
    hub.addRepo('acme/busy', { private: false });
    await attemptOf('seed').run(publishModel(), input({ repo: 'acme/busy', private: false }));
    hub.nextCommit = 'concurrent-commit';
    const attempt = attemptOf('raced');
    const err = await attempt.run(publishModel(), input({ repo: 'acme/busy', private: false })).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/412|A commit has happened since/);
    expect((err as { nonRetryable?: boolean }).nonRetryable).not.toBe(true);
    const before = hub.repos.get('acme/busy')!.commits.length; // the seed and the other writer's commit
    expect(before).toBe(2);
    await attempt.run(publishModel(), input({ repo: 'acme/busy', private: false }));
    const repo = hub.repos.get('acme/busy')!;
    expect(repo.commits).toHaveLength(3);
    const sent = commitRequests('acme/busy').map((q) => JSON.parse(q.body.toString('utf8').split('\n')[0]!) as { value: { parentCommit?: string } });
    expect(sent.at(-1)!.value.parentCommit).toBe(repo.commits[1]!.oid);
  });
});
