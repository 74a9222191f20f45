/**
 * Human review from the Temporal Web UI (the dev server's bundled UI, 2.42), in a real Chromium: a tiny run with
 * `review: true` waits for its decision; a person opens the run's page, picks "More Actions" → "Send an Update",
 * names the `review` Update and types its one JSON argument. A decision without a reason is refused by the
 * workflow's validator, the UI shows the refusal and the run keeps waiting with nothing in its history; the approval
 * then publishes (dry run) with who approved and why in the result and the model card.
 * review.test.ts approves from twinflow's own review page; review-reject.test.ts covers reject and the timeout.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeps } from '../../../activities/deps';
import { TwinflowClient } from '../../../client';
import { REVIEW_UPDATE, type TrainResult } from '../../../lib/schemas/train';
import { launchChromium, withPage } from '../../helpers/web-ui';
import { withTrainWorkers } from '../../harness/train-workers';
import { baselineFixture, tinyTrainInput, untilReview } from './review-fixtures';

const fx = baselineFixture('sk-review-webui');
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
});

interface UpdateSent {
  /** The server's answer to the UI's update request: HTTP 200 for an accepted and for a refused Update alike. */
  status: number;
  /** The validator's refusal, as the server returned it (undefined when the Update was accepted). */
  failure?: string;
}

/**
 * Opens the run's actions menu, fills "Send an Update" (name, one JSON payload) and submits it; waits for the UI's
 * request to its server to be answered, then for the UI to show that answer: a refusal's message in the form, which
 * the person then cancels; an accepted Update closes the form.
 */
async function sendUpdateFromUi(page: Page, namespace: string, workflowId: string, name: string, arg: unknown): Promise<UpdateSent> {
  await page.getByRole('button', { name: 'More Actions' }).first().click();
  await page.getByRole('menuitem', { name: 'Send an Update' }).click();
  const modal = page.locator('[data-testid="update-confirmation-modal"]').filter({ visible: true });
  await modal.getByRole('heading', { name: 'Send an Update' }).waitFor();

  // The UI asks the run which Updates it defines (the SDK's workflow metadata query) and offers them in a menu,
  // with "Custom" for a name typed by hand.
  await modal.locator('[data-testid="update-select-button"]').click();
  await modal.getByRole('option', { name, exact: true }).click();
  // The payload editor is CodeMirror: replace whatever it holds, then leave it, as a person moving on to the
  // button would.
  await modal.locator('.cm-content').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(JSON.stringify(arg));
  await page.keyboard.press('Tab');

  const submit = modal.locator('[data-testid="confirm-modal-button"]');
  await expect.poll(() => submit.isEnabled()).toBe(true);
  const request = page.waitForRequest((r) => r.method() === 'POST' && decodeURIComponent(new URL(r.url()).pathname) === `/api/v1/namespaces/${namespace}/workflows/${workflowId}/update/${name}`);
  await submit.click();
  const response = await (await request).response();
  if (!response) throw new Error('the update request got no response');
  const body = (await response.json()) as { outcome?: { failure?: { message?: string }; success?: unknown } };
  const failure = body.outcome?.failure?.message;
  if (failure !== undefined) {
    await modal.getByText(failure).first().waitFor();
    await modal.locator('form').getByRole('button', { name: 'Cancel' }).click();
  }
  await expect.poll(() => modal.count(), { timeout: 10_000 }).toBe(0);
  return { status: response.status(), failure };
}

describe('human review from the Temporal Web UI', () => {
  it('refuses a decision without a reason (shown in the UI, the run still waits), then approves and publishes (dry run) with the decision', async () => {
    const cfg = fx.config();
    const deps = createDeps(cfg);
    const namespace = cfg.temporal.namespace;
    const ui = `http://127.0.0.1:${cfg.stack.temporalUiPort}`;
    await withTrainWorkers(cfg, async ({ client, taskQueue, gpuTaskQueue }) => {
      const twinflow = new TwinflowClient(client, cfg);
      const input = tinyTrainInput('it-review-webui', fx.tiny, gpuTaskQueue, {
        review: true,
        publish: { repo: 'acme/tiny-webui-reviewed', dryRun: true, gate: { minRougeLsum: 0 } },
      });
      const handle = await twinflow.startTrain(input, { taskQueue, workflowId: `train-review-webui-${taskQueue}` });
      await untilReview(twinflow, handle.workflowId);
      const runId = (await handle.describe()).runId;

      await withPage(browser, cfg.stack.dir, 'review-webui', async (page) => {
        await page.goto(`${ui}/namespaces/${namespace}/workflows/${encodeURIComponent(handle.workflowId)}/${runId}/history`);
        await page.getByText('Running', { exact: true }).first().waitFor();

        // A decision without a reason: the validator's refusal comes back to the form, word for word.
        const refused = await sendUpdateFromUi(page, namespace, handle.workflowId, REVIEW_UPDATE, { decision: 'approve', reason: '', by: 'webui-reviewer' });
        expect(refused).toEqual({ status: 200, failure: 'invalid review decision: reason: say why (the reason goes into the model card)' });
        expect((await twinflow.trainProgress(handle.workflowId)).stage).toBe('review');
        const events = (await handle.fetchHistory()).events ?? [];
        expect(events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes || e.workflowExecutionUpdateCompletedEventAttributes)).toEqual([]);

        // The well-formed approval, typed into the same form.
        const approved = await sendUpdateFromUi(page, namespace, handle.workflowId, REVIEW_UPDATE, { decision: 'approve', reason: 'read every output in the web ui', by: 'webui-reviewer' });
        expect(approved).toEqual({ status: 200, failure: undefined });
        await page.getByText('Completed', { exact: true }).first().waitFor({ timeout: 120_000 });
      });

      const result = (await handle.result()) as TrainResult;
      expect(result.review).toMatchObject({ decision: 'approve', by: 'webui-reviewer', reason: 'read every output in the web ui', timedOut: false });
      expect(result.publish).toMatchObject({ dryRun: true, gatePassed: true, repo: 'acme/tiny-webui-reviewed' });
      const lineage = await deps.artifacts.getJson<{ review: { decision: string; by: string; reason: string } }>(`${result.publish!.dryRunUri}twinflow_lineage.json`);
      expect(lineage.review).toMatchObject({ decision: 'approve', by: 'webui-reviewer', reason: 'read every output in the web ui' });
      const card = await deps.artifacts.getText(`${result.publish!.dryRunUri}README.md`);
      expect(card).toMatch(/- review: approved by webui-reviewer at \S+: "read every output in the web ui"/);
      // Exactly one update entered the history: the approval (the refused one never did).
      const accepted = ((await handle.fetchHistory()).events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
      expect(accepted).toHaveLength(1);
    });
  });
});
