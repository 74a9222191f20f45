/**
 * docs/workflows.md is generated from the zod schemas (scripts/gen-workflows-doc.ts): it fails here when a schema,
 * a workflow type or an example changed without `npm run docs:workflows`. Every example is a valid input of its
 * workflow (what the Web UI form would send), and every exported workflow type is documented.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../lib/config';
import { DOC_PATH, renderWorkflowsDoc, WORKFLOWS } from '../../../scripts/gen-workflows-doc';

describe('docs/workflows.md', () => {
  it('is up to date with the schemas (run `npm run docs:workflows` when this fails)', () => {
    expect(fs.readFileSync(DOC_PATH, 'utf8')).toBe(renderWorkflowsDoc());
  });

  it('documents every workflow type that the bundle exports', () => {
    const index = fs.readFileSync(path.join(PROJECT_ROOT, 'workflows', 'index.ts'), 'utf8');
    const types = [...index.matchAll(/export\s*\{([^}]+)\}\s*from/g)].flatMap((m) => m[1]!.split(',').map((n) => n.trim().split(/\s+as\s+/).pop()!)).filter(Boolean);
    expect(WORKFLOWS.map((w) => w.type).sort()).toEqual(types.sort());
  });

  it.each(WORKFLOWS.flatMap((w) => w.examples.map((e) => [w.type, e.title, w, e] as const)))('%s example "%s" is a valid input', (_type, _title, w, e) => {
    const parsed = w.schema!.safeParse(e.input);
    expect(parsed.error?.issues ?? []).toEqual([]);
  });
});
