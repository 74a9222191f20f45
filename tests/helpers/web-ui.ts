/**
 * Drives the Temporal Web UI (2.42) the way a person does, in a real Chromium (playwright-core). Each step waits on
 * something the UI really shows or sends (a request, a URL, visible text), never on a fixed delay.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: install it (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/**
 * Runs `fn` on a fresh page; if it throws, saves a full-page screenshot (and the page's URL and recent
 * console/requests log next to it) under `dir` before rethrowing, so a failure can be looked at afterwards.
 */
export async function withPage<T>(browser: Browser, dir: string, name: string, fn: (page: Page) => Promise<T>): Promise<T> {
  const shot = path.join(dir, `${name}-failure.png`);
  const logFile = path.join(dir, `${name}-failure.log`);
  // A leftover from an earlier failed run would be mistaken for this run's.
  fs.rmSync(shot, { force: true });
  fs.rmSync(logFile, { force: true });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const log: string[] = [];
  page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    if (r.url().includes('/api/')) log.push(`request: ${r.method()} ${r.url()}`);
  });
  page.on('response', (r) => {
    if (r.url().includes('/api/')) log.push(`response: ${r.status()} ${r.url()}`);
  });
  try {
    return await fn(page);
  } catch (err) {
    fs.mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
    fs.writeFileSync(logFile, [`url: ${page.url()}`, ...log.slice(-200)].join('\n') + '\n');
    if (err instanceof Error) err.message += `\n(screenshot: ${shot})`;
    throw err;
  } finally {
    await page.close();
  }
}

export interface StartWorkflowForm {
  workflowId: string;
  taskQueue: string;
  workflowType: string;
  /** The single JSON argument; the UI takes exactly one payload. */
  input: unknown;
}

export interface StartedFromUi {
  runId: string;
  /** The run's page in the UI, as the success toast links to it. */
  runPath: string;
}

/**
 * Fills the "Start a Workflow" form, clicks "Start Workflow", waits for the server to accept the start request, and
 * follows the success toast's link to the new run's page.
 */
export async function startWorkflowFromUi(page: Page, uiUrl: string, namespace: string, form: StartWorkflowForm): Promise<StartedFromUi> {
  await page.goto(`${uiUrl}/namespaces/${namespace}/workflows/start-workflow`);
  await page.getByRole('heading', { name: 'Start a Workflow' }).waitFor();

  await page.locator('#workflowId').fill(form.workflowId);
  await page.locator('#taskQueue').fill(form.taskQueue);
  await page.locator('#workflowType').fill(form.workflowType);

  // Leaving the task-queue field makes the UI look up the queue's pollers and insert an "Active"/"Inactive" banner
  // above the rest of the form, which moves the button down. Wait for that banner so the form has its final layout.
  const queueBanner = page.getByText(/Task Queue is (Active|Inactive)/);
  await queueBanner.waitFor();
  const bannerText = await queueBanner.textContent();
  if (!bannerText?.includes('Active') || bannerText.includes('Inactive')) {
    throw new Error(`the UI reports task queue ${form.taskQueue} as "${bannerText}": no worker is polling it`);
  }

  // The input editor is CodeMirror: paste the JSON, then leave the editor (Tab) as a person moving on would. On blur
  // the UI re-formats the JSON over several lines, growing the editor and pushing the button down; a click while the
  // editor still had focus would blur it on mousedown and release the mouse beside the moved button, so no click
  // event reaches it. Wait for the re-formatted text before clicking.
  const editor = page.locator('.cm-content');
  await editor.click();
  const json = JSON.stringify(form.input);
  await page.keyboard.insertText(json);
  await page.keyboard.press('Tab');
  const formatted = JSON.stringify(form.input, null, 2);
  const blurredEditor = page.locator('.cm-content:not(:focus)');
  await expect.poll(async () => ((await blurredEditor.count()) ? (await blurredEditor.innerText()).trim() : '(editor still has focus)')).toBe(formatted);

  const button = page.locator('[data-testid="start-workflow-button"]');
  const startRequest = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === `/api/v1/namespaces/${namespace}/workflows/${encodeURIComponent(form.workflowId)}`);
  await button.click();
  const request = await startRequest;
  const response = await request.response();
  if (!response) throw new Error('the start request got no response');
  const body = (await response.json()) as { runId?: string; message?: string };
  if (!response.ok() || !body.runId) throw new Error(`the server refused the start (HTTP ${response.status()}): ${JSON.stringify(body)}`);

  // Success shows a toast linking to the new run's history; a person clicks it to watch the run.
  const toastLink = page.getByRole('link', { name: 'Workflow started successfully' });
  const runPath = `/namespaces/${namespace}/workflows/${encodeURIComponent(form.workflowId)}/${body.runId}`;
  await toastLink.click();
  await page.waitForURL((url) => url.pathname.startsWith(runPath));
  return { runId: body.runId, runPath };
}
