/**
 * End to end through the Temporal Web UI in a real browser (Debian's Chromium driven by playwright-core): a person
 * fills the UI's "Start a Workflow" form with one JSON input, a real worker runs it, and the run page shows the result.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeps } from '../../activities/deps';
import { createDiagnosticsActivities } from '../../activities/diagnostics';
import { launchChromium, startWorkflowFromUi, withPage } from '../helpers/web-ui';
import { testConfig } from '../harness/stack';
import { withWorker } from '../harness/worker';

describe('Temporal Web UI', () => {
  const config = testConfig();
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('starts stackCheck from the "Start a Workflow" form and shows its result', async () => {
    const deps = createDeps(config);
    await withWorker(config, createDiagnosticsActivities(deps), async ({ client, taskQueue }) => {
      const workflowId = `ui-started-${taskQueue}`;
      const namespace = config.temporal.namespace;
      const ui = `http://127.0.0.1:${config.stack.temporalUiPort}`;

      // The form reports whether a worker polls the queue; a person opens it once the worker runs.
      await expect
        .poll(async () => {
          // No task-queue type given: the server describes the workflow pollers.
          const { pollers } = await client.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue } });
          return pollers.length;
        }, { timeout: 10_000 })
        .toBeGreaterThan(0);

      await withPage(browser, config.stack.dir, 'web-ui', async (page) => {
        const { runId } = await startWorkflowFromUi(page, ui, namespace, {
          workflowId,
          taskQueue,
          workflowType: 'stackCheck',
          input: { message: 'started from the web ui' },
        });

        // The run the UI started is the one the worker completed, with the input typed into the form.
        const handle = client.workflow.getHandle(workflowId, runId);
        const result = await handle.result();
        expect(result).toMatchObject({ roundTripOk: true });
        expect(await deps.artifacts.getJson(result.uri)).toMatchObject({ message: 'started from the web ui' });
        expect((await handle.describe()).type).toBe('stackCheck');

        // The run page (reached through the UI's own success link) follows the run live to its end.
        const inputAndResult = page.locator('[data-testid="input-and-result"]');
        await page.getByText('Completed', { exact: true }).first().waitFor({ timeout: 20_000 });
        await expect.poll(() => inputAndResult.innerText(), { timeout: 20_000 }).toMatch(/"roundTripOk":\s*true/);
        expect(await inputAndResult.innerText()).toContain('started from the web ui');
      });
    });
  });
});
