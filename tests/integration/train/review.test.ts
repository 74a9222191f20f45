/**
 * Human review before publishing, on the real stack with the tiny model on CPU: one config trains two variants and
 * evaluates them with two baselines (asked once), writes the review page, and waits durably; a person opens the page
 * in a real Chromium, sorts it by worst score and approves; the run publishes (dry run) with the decision in the
 * model card's lineage. A rejected run publishes nothing; a run nobody decides on follows its timeout policy.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeps } from '../../../activities/deps';
import { fetchReviewPage } from '../../../cli/commands/train';
import { serveReview } from '../../../cli/review-server';
import { TwinflowClient } from '../../../client';
import type { TrainResult } from '../../../lib/schemas/train';
import { launchChromium, withPage } from '../../helpers/web-ui';
import { withTrainWorkers } from '../../harness/train-workers';
import { baselineFixture, recordReplayHistory, tinyTrainInput, untilReview } from './review-fixtures';

const fx = baselineFixture('sk-review');
const config = fx.config;
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
});

async function statusOf(twinflow: TwinflowClient, workflowId: string): Promise<unknown> {
  const sa = (await twinflow.client.workflow.getHandle(workflowId).describe()).searchAttributes as Record<string, unknown[] | undefined>;
  return sa.TwinflowStatus?.[0];
}

describe('human review before publishing', () => {
  it('trains two variants, evaluates them and two baselines once, is approved from the review page and publishes (dry run) with the decision', async () => {
    const cfg = config();
    const deps = createDeps(cfg);
    const requestsBefore = fx.chat.requests.length;
    await withTrainWorkers(cfg, async ({ client, taskQueue, gpuTaskQueue }) => {
      const twinflow = new TwinflowClient(client, cfg);
      const input = tinyTrainInput('it-review-variants', fx.tiny, gpuTaskQueue, {
        variants: [
          { name: 'tiny-4K', overrides: { training: { maxSeqLength: 256 } } },
          { name: 'tiny-8K', overrides: { training: { maxSeqLength: 512, lora: { r: 8 } } } },
        ],
        evaluation: {
          maxExamples: 3,
          baselines: [
            { model: 'gpt-4o-mini', name: 'gpt4o-mini' },
            { model: 'gpt-4o-mini', name: 'gpt4o-mini-fewshot', shots: 2 },
          ],
        },
        review: true,
        publish: { repo: 'acme/tiny-reviewed', dryRun: true, gate: { minRougeLsum: 0 }, variant: 'tiny-8K' },
      });
      const handle = await twinflow.startTrain(input, { taskQueue, workflowId: `train-review-${taskQueue}` });
      // A decision before the run waits for one is refused by the run's validator (and never enters history).
      await expect(twinflow.reviewTrain(handle.workflowId, { decision: 'approve', reason: 'too early', by: 'tester' })).rejects.toThrow(/not awaiting review/);

      const waiting = await untilReview(twinflow, handle.workflowId);
      expect(waiting.review).toMatchObject({ onTimeout: 'reject' });
      expect(waiting.review!.reviewUri).toMatch(/\/report\/review\.html$/);
      await expect.poll(() => statusOf(twinflow, handle.workflowId), { timeout: 10_000 }).toBe('awaiting_review');
      await expect(twinflow.reviewTrain(handle.workflowId, { decision: 'approve', reason: ' ', by: 'tester' })).rejects.toThrow(/reason/);

      // A person opens the page (served by `twinflow train review --serve`'s server), sorts it and approves.
      const page = await fetchReviewPage(cfg, twinflow, handle.workflowId);
      const server = await serveReview({ html: page.html, workflowId: handle.workflowId, by: 'reviewer@test', send: (d) => twinflow.reviewTrain(handle.workflowId, d) });
      try {
        await withPage(browser, cfg.stack.dir, 'review-page', async (p) => {
          await p.goto(server.url);
          const rows = p.locator('#review tbody tr');
          // Every test example some model answered (the no-LLM floors score the whole split, the models maxExamples).
          await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(3);
          const headers = await p.locator('#review thead th').allInnerTexts();
          expect(headers.slice(2).map((h) => h.split('\n')[0])).toEqual(expect.arrayContaining(['gpt4o-mini', 'gpt4o-mini-fewshot', 'tiny-4K', 'tiny-8K']));
          const model = Number(await p.locator('#sort-worst').getAttribute('data-model'));
          await p.click('#sort-worst');
          expect(await p.getAttribute('body', 'data-sorted')).toBe(`rouge:${model}`);
          const scores = await p.$$eval('#review tbody tr', (trs, col) => trs.map((tr) => Number(tr.children[col]!.getAttribute('data-rouge'))), 2 + model);
          expect(scores).toEqual([...scores].sort((a, b) => a - b));
          // Sorting by a baseline's RMSE, worst first, reorders by that column.
          await p.locator('button.sort[data-model="0"][data-metric="rmse"]').click();
          expect(await p.getAttribute('body', 'data-sorted')).toBe('rmse:0');
          await p.fill('#reason', 'outputs read like real reviews');
          await p.click('#approve');
          await expect.poll(() => p.locator('#outcome').innerText()).toBe('Approved');
        });
        expect(await server.decided).toMatchObject({ decision: 'approve', by: 'reviewer@test' });
      } finally {
        await server.close();
      }

      const result = (await handle.result()) as TrainResult;
      await recordReplayHistory(handle, 'train--variants-review-approved.json');
      // One table: both variants and both baselines; the baselines asked once for 3 examples each.
      expect(result.evaluations.map((e) => e.model)).toEqual(expect.arrayContaining(['gpt4o-mini', 'gpt4o-mini-fewshot', 'tiny-4K', 'tiny-8K']));
      for (const row of ['gpt4o-mini', 'gpt4o-mini-fewshot', 'tiny-4K', 'tiny-8K']) expect(result.report.markdown).toContain(`| ${row} |`);
      expect(fx.chat.requests.length - requestsBefore).toBeLessThanOrEqual(6);
      expect(result.variants!.map((v) => v.name)).toEqual(['tiny-4K', 'tiny-8K']);
      expect(result.fineTune.adapterUri).toBe(result.variants![1]!.fineTune.adapterUri);
      expect(result.variants![0]!.fineTune.adapterUri).not.toBe(result.variants![1]!.fineTune.adapterUri);

      // Published (dry run) with who approved and why in the lineage and the card.
      expect(result.review).toMatchObject({ decision: 'approve', by: 'reviewer@test', reason: 'outputs read like real reviews', timedOut: false });
      expect(result.publish).toMatchObject({ dryRun: true, gatePassed: true, repo: 'acme/tiny-reviewed' });
      const lineage = await deps.artifacts.getJson<{ review: { by: string; reason: string }; reviewUri: string }>(`${result.publish!.dryRunUri}twinflow_lineage.json`);
      expect(lineage.review).toMatchObject({ by: 'reviewer@test', reason: 'outputs read like real reviews' });
      expect(lineage.reviewUri).toBe(result.report.reviewUri);
      const card = await deps.artifacts.getText(`${result.publish!.dryRunUri}README.md`);
      expect(card).toMatch(/- review: approved by reviewer@test at \S+: "outputs read like real reviews"/);
      expect(card).toContain('r=8'); // the published variant's own training settings
      await expect.poll(() => statusOf(twinflow, handle.workflowId), { timeout: 10_000 }).toBe('review_approved');
    });
  });
});
