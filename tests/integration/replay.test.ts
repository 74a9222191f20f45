/**
 * Replay: every recorded workflow history in tests/replay/histories must replay against the current workflow code
 * without a nondeterminism error. A change that breaks this would break every run in flight on a real cluster; such
 * a change needs `patched()` (or a new workflow type), and then a new recording next to the old one.
 *
 * Record (or add) histories with: npx tsx tests/replay/record.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/config';
import { WORKFLOW_BUNDLE_PATH } from '../harness/stack';
import { historyFromJson } from '../replay/history-json';

const dir = path.join(PROJECT_ROOT, 'tests', 'replay', 'histories');
const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json').sort() : [];
/** file → the workflow id it was recorded under (written by the recorder). */
const workflowIds: Record<string, string> = fs.existsSync(path.join(dir, 'workflow-ids.json'))
  ? (JSON.parse(fs.readFileSync(path.join(dir, 'workflow-ids.json'), 'utf8')) as Record<string, string>)
  : {};

describe('workflow histories replay against the current code', () => {
  it('has a recorded history of every workflow type', () => {
    // The workflow types are the names workflows/index.ts re-exports (read from source: importing workflow code
    // outside the workflow sandbox is not allowed).
    const index = fs.readFileSync(path.join(PROJECT_ROOT, 'workflows', 'index.ts'), 'utf8');
    const types = [...index.matchAll(/export\s*\{([^}]+)\}\s*from/g)].flatMap((m) => m[1]!.split(',').map((n) => n.trim().split(/\s+as\s+/).pop()!)).filter(Boolean);
    expect(types.length).toBeGreaterThan(0);
    const recorded = new Set(files.map((f) => f.split('--')[0]));
    expect(types.filter((t) => !recorded.has(t))).toEqual([]);
  });

  it.each(files)('%s', async (file) => {
    // Files are in the JSON form of the Temporal CLI and UI (`temporal workflow show --output json`).
    const history = historyFromJson(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')));
    const result = await Worker.runReplayHistory({ workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH } }, history, workflowIds[file] ?? file);
    expect(result).toBeUndefined();
  });
});
