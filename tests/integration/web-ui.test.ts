/**
 * End to end through the Temporal Web UI in a real browser (Debian's Chromium driven by playwright-core): a person
 * fills the UI's "Start a Workflow" form with one JSON input, a real worker runs it, and the run page shows the result.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { createDeps } from '../../activities/deps';
import { createDiagnosticsActivities } from '../../activities/diagnostics';
import type { IngestResult } from '../../lib/schemas/ingest';
import { launchChromium, startWorkflowFromUi, withPage } from '../helpers/web-ui';
import { testConfig } from '../harness/stack';
import { withWorker } from '../harness/worker';

describe('Temporal Web UI', () => {
  const config = testConfig();
  let browser: Browser;

  let tmp: string;

  beforeAll(async () => {
    browser = await launchChromium();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-web-ui-'));
  });
  afterAll(async () => {
    await browser?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function waitForPollers(client: Client, taskQueue: string): Promise<void> {
    await expect
      .poll(async () => (await client.workflowService.describeTaskQueue({ namespace: config.temporal.namespace, taskQueue: { name: taskQueue } })).pollers.length, { timeout: 10_000 })
      .toBeGreaterThan(0);
  }

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
  it('starts ingest of a folder of two notes from the form, shows its result, and finds the run by collection', async () => {
    const notes = path.join(tmp, 'notes');
    fs.mkdirSync(notes, { recursive: true });
    fs.writeFileSync(path.join(notes, 'otters.md'), `# Otters\n\n${'Sea otters hold hands while they sleep so that the current does not drift them apart. '.repeat(10)}`);
    fs.writeFileSync(path.join(notes, 'puffins.md'), `# Puffins\n\n${'Puffins carry a dozen small fish crosswise in their beaks back to the burrow. '.repeat(10)}`);
    const ingestConfig = testConfig({ LANCEDB_URI: path.join(tmp, 'lancedb') });
    const deps = createDeps(ingestConfig);
    const collection = `ui-notes-${Date.now().toString(36)}`;
    await withWorker(ingestConfig, createActivities(deps), async ({ client, taskQueue }) => {
      const workflowId = `ui-ingest-${taskQueue}`;
      const namespace = config.temporal.namespace;
      const ui = `http://127.0.0.1:${config.stack.temporalUiPort}`;
      await waitForPollers(client, taskQueue);

      await withPage(browser, config.stack.dir, 'web-ui-ingest', async (page) => {
        // Exactly the JSON docs/workflows.md gives for the form, with this test's folder and collection.
        const input = { collection, sources: [{ type: 'folder', id: 'notes', path: notes }] };
        const { runId } = await startWorkflowFromUi(page, ui, namespace, { workflowId, taskQueue, workflowType: 'ingest', input });

        const handle = client.workflow.getHandle(workflowId, runId);
        const result = (await handle.result()) as IngestResult;
        expect(result.collection).toBe(collection);
        expect(result.documents).toMatchObject({ fetched: 2, loaded: 2 });
        expect(result.vectors.written).toBeGreaterThan(0);

        // The run page follows the run to its end and shows the result.
        const inputAndResult = page.locator('[data-testid="input-and-result"]');
        await page.getByText('Completed', { exact: true }).first().waitFor({ timeout: 30_000 });
        await expect.poll(() => inputAndResult.innerText(), { timeout: 30_000 }).toMatch(/"loaded":\s*2/);
        expect(await inputAndResult.innerText()).toContain(collection);

        // What the UI shows about the run: tags, memo, and a readable summary on each activity.
        const description = await handle.describe();
        expect(description.searchAttributes).toMatchObject({ TwinflowPipeline: ['ingest'], TwinflowCollection: [collection], TwinflowSource: ['notes'], TwinflowSourceType: ['folder'] });
        expect(description.memo).toMatchObject({ summary: `ingest 1 source (folder "notes") into "${collection}"` });
        const child = await client.workflow.getHandle(`${workflowId}--source-notes`).fetchHistory();
        const summaries = (child.events ?? [])
          .filter((e) => e.activityTaskScheduledEventAttributes)
          .map((e) => client.options.loadedDataConverter.payloadConverter.fromPayload(e.userMetadata!.summary!));
        expect(summaries).toContain(`crawl folder source "notes": ${notes}`);

        // A person finds the run in the workflow list by its collection.
        const query = `TwinflowCollection="${collection}"`;
        await expect
          .poll(
            async () => {
              await page.goto(`${ui}/namespaces/${namespace}/workflows?query=${encodeURIComponent(query)}`);
              return page
                .getByText(workflowId, { exact: true })
                .first()
                .waitFor({ timeout: 5_000 })
                .then(
                  () => true,
                  () => false,
                );
            },
            { timeout: 30_000, interval: 1000 },
          )
          .toBe(true);
      });
    });
  });
});
