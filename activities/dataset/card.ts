/** The dataset card (README.md) stored next to the splits: what it is, where it came from, and its statistics. */
import type { DatasetManifest } from '../../lib/schemas/train';

const fmt = (v: number | null) => (v === null ? 'n/a' : Number.isInteger(v) ? String(v) : v.toFixed(1));

export function datasetCard(m: DatasetManifest, sample?: { user: string; assistant: string }): string {
  const s = m.stats;
  const src = m.spec.source;
  const lines = [
    '---',
    `pretty_name: ${JSON.stringify(m.name)}`,
    'task_categories:',
    '- text-generation',
    'tags:',
    '- twinflow',
    '- sft',
    '- chat',
    `size_categories: ${s.kept < 1000 ? 'n<1K' : s.kept < 10_000 ? '1K<n<10K' : s.kept < 100_000 ? '10K<n<100K' : '100K<n<1M'}`,
    '---',
    '',
    `# ${m.name} (version ${m.version})`,
    '',
    `Chat-format supervised fine-tuning data built by twinflow ${src.kind === 'records' ? 'from labelled records' : 'from cleaned documents by a teacher LLM'}.`,
    'Each line of a split is `{"id", "messages": [{"role", "content"}...], "source"}`; the last message is the assistant target.',
    '',
    '## Splits',
    '',
    '| split | examples | file |',
    '|---|---|---|',
    `| train | ${m.counts.train} | ${m.trainUri} |`,
    `| validation | ${m.counts.validation} | ${m.validationUri} |`,
    `| test | ${m.counts.test} | ${m.testUri} |`,
    '',
    `The split is deterministic (seed ${m.spec.split.seed}, by the hash of each example id). Exact and near-duplicates were removed before splitting, so no test example also appears in train.`,
    '',
    '## Build',
    '',
    `- source: \`${m.lineage.sourceUri}\` (sha256 ${m.lineage.sourceHash.slice(0, 16)}…)`,
    src.kind === 'documents' ? `- teacher: ${src.teacher.model}, ${src.pairsPerDocument} pairs per window of ${src.maxCharsPerWindow} characters` : `- template: user \`${src.template.user.slice(0, 120)}\``,
    m.format.ratings
      ? `- output format: text, a blank line, then \`${m.format.ratings.marker} {${m.format.ratings.keys.map((k) => `"${k}": n`).join(', ')}}\` (ratings ${m.format.ratings.min}-${m.format.ratings.max})`
      : '- output format: plain text',
    `- records read: ${s.input}; invalid: ${s.invalid}; exact duplicates: ${s.exactDuplicates}; near-duplicates (Jaccard ≥ ${m.spec.dedupe.threshold} on ${m.spec.dedupe.shingleSize}-word shingles): ${s.nearDuplicates}; longer than ${m.spec.maxSeqLength ?? 'the limit'} tokens: ${s.tooLong}; kept: ${s.kept}`,
    ...(s.teacher
      ? [`- teacher usage: ${s.teacher.requests} requests, ${s.teacher.promptTokens} prompt + ${s.teacher.completionTokens} completion tokens, $${s.teacher.costUsd.toFixed(4)}; windows answered from the cache: ${s.teacher.cacheHits}; windows that failed: ${s.teacher.failedWindows}`]
      : []),
    `- lineage: workflow \`${m.lineage.workflowId ?? 'n/a'}\`, run \`${m.lineage.runId ?? 'n/a'}\``,
    '',
    `## Token lengths (${s.tokenizer})`,
    '',
    '| count | min | mean | p50 | p90 | p95 | p99 | max |',
    '|---|---|---|---|---|---|---|---|',
    `| ${s.tokens.count} | ${fmt(s.tokens.min)} | ${fmt(s.tokens.mean)} | ${fmt(s.tokens.p50)} | ${fmt(s.tokens.p90)} | ${fmt(s.tokens.p95)} | ${fmt(s.tokens.p99)} | ${fmt(s.tokens.max)} |`,
    '',
  ];
  if (sample) {
    lines.push('## Example', '', '**user**', '', '```text', sample.user, '```', '', '**assistant**', '', '```text', sample.assistant, '```', '');
  }
  return lines.join('\n');
}
