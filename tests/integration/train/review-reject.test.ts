/**
 * Human review before publishing, the other outcomes (review.test.ts has the approval from the browser): a rejected
 * run publishes nothing, and a second decision is refused; a run nobody decides on follows review.onTimeout.
 */
import { describe, expect, it } from 'vitest';
import { createDeps } from '../../../activities/deps';
import { TwinflowClient } from '../../../client';
import type { TrainResult } from '../../../lib/schemas/train';
import { withTrainWorkers } from '../../harness/train-workers';
import { baselineFixture, tinyTrainInput, untilReview } from './review-fixtures';

const fx = baselineFixture('sk-review');
const config = fx.config;


describe('human review: reject and timeout', () => {
  it('a rejected run publishes nothing; a run nobody decides on follows review.onTimeout', async () => {
    const cfg = config();
    const deps = createDeps(cfg);
    await withTrainWorkers(cfg, async ({ client, taskQueue, gpuTaskQueue }) => {
      const twinflow = new TwinflowClient(client, cfg);
      const publish = { dryRun: true, gate: { minRougeLsum: 0 } };
      const rejected = await twinflow.startTrain(tinyTrainInput('it-review-reject', fx.tiny, gpuTaskQueue, { review: true, publish: { ...publish, repo: 'acme/rejected' } }), { taskQueue });
      const timedOut = await twinflow.startTrain(
        tinyTrainInput('it-review-timeout', fx.tiny, gpuTaskQueue, { review: { timeout: '3 seconds', onTimeout: 'publish' }, publish: { ...publish, repo: 'acme/by-policy' } }),
        { taskQueue },
      );

      await untilReview(twinflow, rejected.workflowId);
      const outcome = await twinflow.reviewTrain(rejected.workflowId, { decision: 'reject', reason: 'ratings are off', by: 'tester' });
      expect(outcome).toMatchObject({ decision: 'reject', by: 'tester', timedOut: false });
      await expect(twinflow.reviewTrain(rejected.workflowId, { decision: 'approve', reason: 'changed my mind', by: 'tester' })).rejects.toThrow(/already rejected|not awaiting review|already completed/);
      const r = (await rejected.result()) as TrainResult;
      expect(r.publish).toMatchObject({ published: false, gatePassed: true, files: [] });
      expect(r.publish!.reasons).toEqual(['rejected in review by tester: ratings are off']);
      const prefix = `runs/${rejected.workflowId}/${r.report.reportUri.split('/').at(-3)}/publish-dry-run/`;
      let written = 0;
      for await (const _ of deps.artifacts.list(prefix)) written += 1;
      expect(written).toBe(0);

      const t = (await timedOut.result()) as TrainResult;
      expect(t.review).toMatchObject({ decision: 'approve', timedOut: true, by: 'review.onTimeout policy' });
      expect(t.publish).toMatchObject({ dryRun: true, gatePassed: true, repo: 'acme/by-policy' });
      const card = await deps.artifacts.getText(`${t.publish!.dryRunUri}README.md`);
      expect(card).toContain('- review: nobody decided in time; the configured policy published it');
    });
  });
});
