/** Which base models the CLI builds a tiny model for (cli/tiny-model.ts): the example's folder, and no other. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureExampleModel, recipeFor, TINY_REVIEWS_MODEL, TINY_REVIEWS_RECIPE } from '../../../cli/tiny-model';

describe('ensureExampleModel', () => {
  it('leaves a folder of the user’s own alone: no build, nothing replaced', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-own-model-'));
    fs.writeFileSync(path.join(dir, 'config.json'), '{"model_type": "llama"}');
    const logged: string[] = [];
    // A python that does not exist: any build attempt would reject.
    await ensureExampleModel(dir, '/nonexistent/python3', (l) => logged.push(l));
    await ensureExampleModel('meta-llama/Llama-3.1-8B', '/nonexistent/python3', (l) => logged.push(l));
    expect(logged).toEqual([]);
    expect(fs.readdirSync(dir)).toEqual(['config.json']);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('knows the example’s folder by its resolved path, and its recipe', () => {
    expect(recipeFor(TINY_REVIEWS_MODEL)).toBe(TINY_REVIEWS_RECIPE);
    expect(recipeFor(path.join(TINY_REVIEWS_MODEL, '..', path.basename(TINY_REVIEWS_MODEL)))).toBe(TINY_REVIEWS_RECIPE);
    expect(recipeFor(`${TINY_REVIEWS_MODEL}-copy`)).toBeUndefined();
  });
});
