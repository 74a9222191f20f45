/**
 * The vectors stay the model's: the local embedder (transformers.js, ONNX fp32 exported by scripts/fetch-models.sh)
 * against sentence-transformers' own computation in bare PyTorch fp32, from the same wheel's safetensors, on real
 * chunks of the fixture pages (the pipeline's own cleaning and chunking). Needs the trainer's venv (make python).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, PROJECT_ROOT } from '../../../lib/config';
import { cosine, LocalEmbedder } from '../../../lib/embedding';
import { chunkDocument, cleanDocument, loadTokenizer } from '../../../lib/text';
import { extractReferenceModel } from '../../helpers/st-model';
import { WEB_PAGES_DIR } from '../text/fixtures';

const config = loadConfig();
const python = path.join(config.home, 'venv', 'bin', 'python');

describe('the local embedder against sentence-transformers (PyTorch fp32)', () => {
  it('gives the same vectors: cosine >= 0.999 on every fixture chunk tried', async () => {
    if (!fs.existsSync(python)) throw new Error(`no Python venv at ${python}: run make python`);
    const tokenizer = await loadTokenizer(config.embedding.model, { modelsDir: config.embedding.modelsDir });
    const texts: string[] = [];
    for (const slug of ['aclu', 'bbc-1', 'cnn', 'wikipedia', 'mozilla-1', 'lemonde-1']) {
      const file = path.join(WEB_PAGES_DIR, slug, 'source.html');
      if (!fs.existsSync(file)) continue;
      const url = `http://127.0.0.1/${slug}/`;
      const c = cleanDocument({ docId: '0'.repeat(32), sourceId: 's', sourceType: 'web', location: url, url, contentType: 'text/html', body: fs.readFileSync(file, 'utf8'), metadata: {} }, {});
      if (c.ok) texts.push(...chunkDocument(c.doc, tokenizer).chunks.slice(0, 8).map((x) => x.text));
    }
    expect(texts.length).toBeGreaterThan(30);
    const embedder = await LocalEmbedder.create({ model: config.embedding.model, modelsDir: config.embedding.modelsDir, batchSize: 8, allowRemote: false });
    expect(embedder.dtype).toBe('fp32');
    const ours = await embedder.embed(texts);

    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'twinflow-parity-'));
    try {
      const folder = extractReferenceModel(python, work);
      const out = execFileSync(python, [path.join(PROJECT_ROOT, 'tests/unit/embedding/support/torch_vectors.py'), folder, String(embedder.maxTokens)], {
        input: JSON.stringify(texts),
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, HF_HUB_OFFLINE: '1', OMP_NUM_THREADS: '1' },
      });
      const reference = JSON.parse(out) as number[][];
      const cosines = ours.map((v, i) => cosine(v, reference[i]!));
      expect(Math.min(...cosines)).toBeGreaterThanOrEqual(0.999);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});
