/**
 * The demo's fast checks (the whole demo, twice, is `npm run test:demo`: tests/demo/demo.test.ts):
 * - the website is served on a fixed, configurable port, so its documents keep their ids from run to run; a bad or
 *   taken port is one line naming TWINFLOW_DEMO_SITE_PORT, and `twinflow demo` says it before starting anything;
 * - the notes that the change-data-capture step edits: pristine notes, one edit + one deletion + one addition, and a
 *   reset that brings the folder back exactly.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeNotes, demoNotes, NOTES_CHANGE, resetNotes } from '../../../cli/demo';
import { DEFAULT_DEMO_SITE_PORT, demoSitePages, demoSitePort, startDemoSite } from '../../../cli/demo-site';
import { canonicalUrl } from '../../../lib/crawl/canonical-url';
import { ConfigError, PROJECT_ROOT } from '../../../lib/config';
import { docIdFor } from '../../../lib/hash';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-demo-unit-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe('demo website', () => {
  it('listens on TWINFLOW_DEMO_SITE_PORT, default 8765', () => {
    expect(demoSitePort({})).toBe(DEFAULT_DEMO_SITE_PORT);
    expect(DEFAULT_DEMO_SITE_PORT).toBe(8765);
    expect(demoSitePort({ TWINFLOW_DEMO_SITE_PORT: '18999' })).toBe(18999);
    expect(demoSitePort({ TWINFLOW_DEMO_SITE_PORT: '' })).toBe(DEFAULT_DEMO_SITE_PORT);
    for (const bad of ['abc', '0', '65536', '80.5', '-1']) {
      expect(() => demoSitePort({ TWINFLOW_DEMO_SITE_PORT: bad })).toThrow(ConfigError);
      expect(() => demoSitePort({ TWINFLOW_DEMO_SITE_PORT: bad })).toThrow(`Invalid configuration: TWINFLOW_DEMO_SITE_PORT: expected a port number (1-65535), got "${bad}"`);
    }
  });

  it('serves the same origin, sitemap and pages at every start, so document ids do not change', async () => {
    const port = await freePort();
    const ids: string[][] = [];
    for (let run = 0; run < 2; run++) {
      const site = await startDemoSite({ port });
      try {
        expect(site.baseUrl).toBe(`http://127.0.0.1:${port}`);
        expect(site.pages).toEqual(demoSitePages());
        expect(site.pages.length).toBe(6);
        const sitemap = await (await fetch(`${site.baseUrl}/sitemap.xml`)).text();
        const locs = [...sitemap.matchAll(/<loc>([^<]+)<\/loc>/g)].map((m) => m[1]!);
        expect(locs).toEqual(site.pages.map((p) => `${site.baseUrl}/${p}/`));
        expect(await (await fetch(`${site.baseUrl}/robots.txt`)).text()).toContain(`Sitemap: ${site.baseUrl}/sitemap.xml`);
        const page = await fetch(locs[0]!);
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('<html');
        expect((await fetch(`${site.baseUrl}/nope/`)).status).toBe(404);
        ids.push(locs.map((l) => docIdFor(canonicalUrl(l))));
      } finally {
        await site.close();
      }
    }
    expect(ids[1]).toEqual(ids[0]);
  });

  it('a port in use is one line naming the variable', async () => {
    const site = await startDemoSite({ port: 0 });
    try {
      const err = await startDemoSite({ port: site.port }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toBe(
        `TWINFLOW_DEMO_SITE_PORT: port ${site.port} on 127.0.0.1 is in use (is another demo running?); stop what uses it or set TWINFLOW_DEMO_SITE_PORT to a free port`,
      );
    } finally {
      await site.close();
    }
  });

  it('`twinflow demo` says so before it starts the stack or anything else', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    const run = (env: Record<string, string>) =>
      new Promise<{ code: number; stderr: string; ms: number }>((resolve) => {
        const started = performance.now();
        execFile(
          path.join(PROJECT_ROOT, 'bin', 'twinflow'),
          ['demo'],
          // Another stack's ports and home: nothing of a real stack can be touched if the check came too late.
          { cwd: dir, env: { ...process.env, TWINFLOW_HOME: dir, TWINFLOW_TEMPORAL_PORT: '1', TWINFLOW_MINIO_PORT: '2', ...env }, timeout: 60_000 },
          (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr, ms: performance.now() - started }),
        );
      });
    try {
      const taken = await run({ TWINFLOW_DEMO_SITE_PORT: String(port) });
      expect(taken.code).toBe(2);
      expect(taken.stderr.trim()).toBe(
        `twinflow: TWINFLOW_DEMO_SITE_PORT: port ${port} on 127.0.0.1 is in use (is another demo running?); stop what uses it or set TWINFLOW_DEMO_SITE_PORT to a free port`,
      );
      const bad = await run({ TWINFLOW_DEMO_SITE_PORT: 'eighty' });
      expect(bad.code).toBe(2);
      expect(bad.stderr.trim()).toBe('twinflow: Invalid configuration: TWINFLOW_DEMO_SITE_PORT: expected a port number (1-65535), got "eighty"');
      expect(fs.existsSync(path.join(dir, 'stack'))).toBe(false);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  }, 120_000);
});

describe('demo notes', () => {
  it('are made from examples/reviews, one note per industry, each long enough to be kept by cleaning', () => {
    const notes = demoNotes();
    expect(notes.size).toBe(8);
    expect(demoNotes()).toEqual(notes);
    for (const [name, text] of notes) {
      expect(name).toMatch(/^[a-z-]+\.md$/);
      expect(text.length).toBeGreaterThan(400);
      expect(text.startsWith('# Company notes: ')).toBe(true);
    }
    expect(notes.has(NOTES_CHANGE.edited)).toBe(true);
    expect(notes.has(NOTES_CHANGE.deleted)).toBe(true);
    expect(notes.has(NOTES_CHANGE.added)).toBe(false);
    expect(NOTES_CHANGE.addedText.length).toBeGreaterThan(200);
  });

  it('change: one edit, one deletion, one addition; reset: exactly the pristine notes again', () => {
    const notes = demoNotes();
    const folder = path.join(dir, 'notes');
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, 'left-over.md'), 'from a run that was interrupted');
    resetNotes(folder, notes);
    const read = () => new Map(fs.readdirSync(folder).map((f) => [f, fs.readFileSync(path.join(folder, f), 'utf8')]));
    expect(read()).toEqual(notes);

    changeNotes(folder, notes);
    const changed = read();
    const names = new Set([...notes.keys(), ...changed.keys()]);
    const diff = { inserted: [] as string[], updated: [] as string[], deleted: [] as string[], unchanged: 0 };
    for (const n of names) {
      if (!notes.has(n)) diff.inserted.push(n);
      else if (!changed.has(n)) diff.deleted.push(n);
      else if (changed.get(n) !== notes.get(n)) diff.updated.push(n);
      else diff.unchanged += 1;
    }
    expect(diff).toEqual({ inserted: [NOTES_CHANGE.added], updated: [NOTES_CHANGE.edited], deleted: [NOTES_CHANGE.deleted], unchanged: notes.size - 2 });
    expect(changed.get(NOTES_CHANGE.edited)!.startsWith(notes.get(NOTES_CHANGE.edited)!)).toBe(true);

    resetNotes(folder, notes);
    expect(read()).toEqual(notes);
  });
});
