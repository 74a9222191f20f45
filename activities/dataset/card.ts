/** The dataset card (README.md) stored next to the splits: what it is, where it came from, and its statistics. */
import type { DatasetManifest } from '../../lib/schemas/train';

const fmt = (v: number | null) => (v === null ? 'n/a' : Number.isInteger(v) ? String(v) : v.toFixed(1));

/** What the n-gram decontamination found and did. */
function decontaminationLine(s: DatasetManifest['stats']): string {
  const d = s.decontamination;
  if (!d) return 'Test examples were not checked for n-gram overlap with train (decontaminate.enabled: false).';
  const list = d.ids.length ? `: ${d.ids.slice(0, 10).join(', ')}${d.contaminated > 10 ? ', …' : ''}` : '';
  const done = d.contaminated === 0 ? '' : d.action === 'drop' ? `, dropped from the test split${list}` : `, kept in the test split (action "report")${list}`;
  return `Decontamination: test examples sharing any ${d.n}-word sequence with train (user turns and answer text, normalised; the ratings line left out): ${d.contaminated}${done}.`;
}

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
    `The split is deterministic (seed ${m.spec.split.seed}, by the hash of each group) and by group: ${m.spec.split.groupBy ? `all examples with the same \`${m.spec.split.groupBy}\`` : src.kind === 'documents' ? 'all pairs from one document' : 'each record'} land in one split${s.groups !== undefined ? ` (${s.groups} groups)` : ''}. Exact and near-duplicates were removed before splitting, so no test example also appears in train.`,
    decontaminationLine(s),
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
