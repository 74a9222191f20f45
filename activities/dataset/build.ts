/**
 * Builds a versioned chat dataset: source → examples → exact and near-duplicate removal → token-length filter →
 * deterministic split → S3 (splits, stats, dataset card, manifest) under datasets/<name>/<version>/, where the
 * version is the hash of the kept examples and the build settings. Rebuilding the same data gives the same version
 * and overwrites the same keys, so a retried activity is idempotent.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ArtifactStore } from '../../lib/artifacts';
import type { Config } from '../../lib/config';
import { hashJson, sha256 } from '../../lib/hash';
import { chatClientForEndpoint, LlmError } from '../../lib/llm';
import { mean, percentile } from '../../lib/metrics/regression';
import { networkPolicyFor } from '../../lib/security/network';
import { checkLocalPath, isLocalModelPath } from '../../lib/security/resources';
import { cleanDocumentSchema, type CleanDocument } from '../../lib/schemas/documents';
import type { DatasetManifest, DatasetRef, DatasetSpec, DatasetStats, Example, TokenLengthStats } from '../../lib/schemas/train';
import { datasetCard } from './card';
import { dedupeText, exactDedupe, nearDedupe } from './dedupe';
import { missingColumns, readRecords, readSourceText } from './records';
import { findContamination } from './decontaminate';
import { groupValue, splitExamples } from './split';
import { generateFromDocuments } from './teacher';
import { recordToExample, TemplateError, templateFields } from './template';
import { type ConversationTokenCounter, loadConversationTokenCounter } from './tokens';

/** A problem with the input itself: retrying cannot help. */
export class DatasetInputError extends Error {
  override name = 'DatasetInputError';
}

export interface BuildDatasetOptions {
  spec: DatasetSpec;
  /** Tokenizer for the length filter (folder, Hub id or s3:// prefix). */
  tokenizer: string;
  maxSeqLength: number;
  artifacts: ArtifactStore;
  config: Config;
  lineage: { workflowId?: string; runId?: string };
  chatTemplate?: string;
  heartbeat?: (details: unknown) => void;
  /** Override the token counter (tests). */
  tokenCounter?: ConversationTokenCounter;
}

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.jinja', 'config.json'];

/** Copies a tokenizer stored under an s3:// prefix to a local cache folder (keyed by the prefix) and returns it. */
async function localTokenizer(source: string, artifacts: ArtifactStore, config: Config): Promise<string> {
  // A tokenizer folder named by input is read from this worker's disk: only where the worker allows (like records).
  if (isLocalModelPath(source)) {
    const verdict = checkLocalPath(config.resources, source, 'dataset.tokenizer');
    if (!verdict.allowed) throw new DatasetInputError(verdict.reason);
  }
  if (!source.startsWith('s3://')) return source;
  const dir = path.join(config.home, 'cache', 'tokenizers', sha256(source).slice(0, 16));
  fs.mkdirSync(dir, { recursive: true });
  const prefix = source.replace(/\/?$/, '/');
  for (const f of TOKENIZER_FILES) {
    const body = await artifacts.getBytes(`${prefix}${f}`).catch(() => undefined);
    if (body) fs.writeFileSync(path.join(dir, f), body);
  }
  return dir;
}

export function tokenStats(lengths: readonly number[]): TokenLengthStats {
  const sorted = [...lengths].sort((a, b) => a - b);
  return {
    count: sorted.length,
    min: sorted[0] ?? null,
    max: sorted.at(-1) ?? null,
    mean: mean(sorted),
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
  };
}

/** Makes ids unique in input order ("a", "a-2", "a-3"), so a repeated idField value cannot collide in the split. */
function uniqueIds(examples: Example[]): Example[] {
  const seen = new Map<string, number>();
  return examples.map((e) => {
    const n = (seen.get(e.id) ?? 0) + 1;
    seen.set(e.id, n);
    return n === 1 ? e : { ...e, id: `${e.id}-${n}` };
  });
}

async function examplesFromSource(o: BuildDatasetOptions) {
  const src = o.spec.source;
  if (src.kind === 'records') {
    const { records, bytes, header } = await readRecords(src.uri, src.format, o.artifacts, o.config.resources);
    if (header?.length) {
      // A column the template needs and the file lacks would fail every record alike: say so once, by name.
      const t = src.template;
      const needed = [
        ...(['system', 'user', 'response'] as const).flatMap((k) => templateFields(t[k] ?? '').map((field) => ({ field, usedBy: `source.template.${k}` }))),
        ...(o.spec.format.ratings?.keys ?? []).map((key) => ({ field: t.ratingFields?.[key] ?? key, usedBy: `format.ratings.keys (${key})` })),
        ...(src.idField ? [{ field: src.idField, usedBy: 'source.idField' }] : []),
      ];
      const missing = missingColumns(header, needed);
      if (missing.length) {
        const list = missing.map((m) => `${JSON.stringify(m.field)} (used by ${m.usedBy})`).join(', ');
        throw new DatasetInputError(`${src.uri}: missing required column${missing.length > 1 ? 's' : ''} ${list}; the header has: ${header.join(', ')}`);
      }
    }
    const examples: Example[] = [];
    const problems: string[] = [];
    records.forEach((r, i) => {
      try {
        const example = recordToExample(r, src, o.spec.format);
        const groupBy = o.spec.split.groupBy;
        if (groupBy) {
          const group = groupValue(r, groupBy);
          if (group === undefined) throw new TemplateError(`split.groupBy: field "${groupBy}" is missing or empty`);
          example.group = group;
        }
        examples.push(example);
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        problems.push(`record ${i + 1}: ${err.message}`);
      }
    });
    if (examples.length === 0) {
      throw new DatasetInputError(records.length === 0 ? `source.uri: ${src.uri} holds no records` : `source.template: no record could be mapped (${problems[0]})`);
    }
    return { examples, input: records.length, invalid: problems.length, problems, sourceHash: sha256(bytes) };
  }

  // Cleaned documents → teacher LLM. Their pairs are split by the document they came from (`source`).
  if (o.spec.split.groupBy) throw new DatasetInputError('split.groupBy: applies to records sources; pairs from documents are always split by their document');
  const raw = await readSourceText(src.uri, o.artifacts, o.config.resources);
  const docs: CleanDocument[] = [];
  const problems: string[] = [];
  raw
    .toString('utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      try {
        docs.push(cleanDocumentSchema.parse(JSON.parse(line)));
      } catch {
        problems.push(`line ${i + 1}: not a CleanDocument`);
      }
    });
  docs.sort((a, b) => (a.docId < b.docId ? -1 : a.docId > b.docId ? 1 : 0));
  const selected = src.maxDocuments ? docs.slice(0, src.maxDocuments) : docs;
  if (selected.length === 0) throw new DatasetInputError(`source.uri: ${src.uri} holds no cleaned documents`);
  const client = chatClientForEndpoint(o.config.llm, src.teacher, process.env, networkPolicyFor(o.config.network.allow));
  await client.checkNetwork();
  const gen = await generateFromDocuments(selected, {
    client,
    artifacts: o.artifacts,
    pairsPerWindow: src.pairsPerDocument,
    maxCharsPerWindow: src.maxCharsPerWindow,
    system: src.system,
    temperature: src.teacher.temperature,
    maxTokens: src.teacher.maxTokens,
    cachePrefix: 'datasets/_teacher-cache',
    onProgress: (done, total) => o.heartbeat?.({ phase: 'teacher', done, total }),
  });
  if (gen.examples.length === 0) {
    const first = gen.failedWindows[0]?.error ?? 'no pairs';
    throw new LlmError(`the teacher produced no example from ${selected.length} documents: ${first}`, true);
  }
  const t = client.tally.snapshot();
  return {
    examples: gen.examples,
    input: gen.examples.length,
    invalid: problems.length,
    problems: [...problems, ...gen.failedWindows.map((f) => `${f.docId}#${f.window}: ${f.error}`)],
    sourceHash: hashJson(selected.map((d) => [d.docId, d.contentHash])),
    teacher: { requests: t.requests, promptTokens: t.promptTokens, completionTokens: t.completionTokens, costUsd: t.costUsd, failedWindows: gen.failedWindows.length, cacheHits: gen.cacheHits },
  };
}

export async function buildDataset(o: BuildDatasetOptions): Promise<DatasetRef & { problems: string[] }> {
  const spec = o.spec;
  o.heartbeat?.({ phase: 'source' });
  const src = await examplesFromSource(o);
  let examples = uniqueIds(src.examples);

  // Deduplicate on the whole set before splitting: a duplicate can then never straddle train and test.
  let exactDuplicates = 0;
  if (spec.dedupe.exact) {
    const r = exactDedupe(examples, dedupeText);
    exactDuplicates = r.removed.length;
    examples = r.kept;
  }
  let nearDuplicates = 0;
  if (spec.dedupe.near) {
    o.heartbeat?.({ phase: 'dedupe', examples: examples.length });
    const r = nearDedupe(examples, dedupeText, spec.dedupe);
    nearDuplicates = r.removed.length;
    examples = r.kept;
  }

  o.heartbeat?.({ phase: 'tokens', examples: examples.length });
  let counter = o.tokenCounter;
  if (!counter) {
    const source = await localTokenizer(o.tokenizer, o.artifacts, o.config);
    counter = await loadConversationTokenCounter(source, {
      allowRemote: !fs.existsSync(source),
      chatTemplate: o.chatTemplate,
    });
  }
  const lengths = new Map<string, number>();
  const fitting: Example[] = [];
  for (const e of examples) {
    const n = counter.count(e.messages);
    if (n <= o.maxSeqLength) {
      fitting.push(e);
      lengths.set(e.id, n);
    }
  }
  const tooLong = examples.length - fitting.length;
  if (fitting.length === 0) throw new DatasetInputError(`maxSeqLength: every example is longer than ${o.maxSeqLength} tokens`);

  const { groups, ...splits } = splitExamples(fitting, spec.split);
  // n-gram decontamination of test against train: a test example sharing a long passage with train is dropped (or
  // only counted), so the score is not partly a memory test.
  let decontamination: DatasetStats['decontamination'];
  if (spec.decontaminate.enabled) {
    const d = findContamination(splits.train, splits.test, { n: spec.decontaminate.n, format: spec.format });
    const drop = spec.decontaminate.action === 'drop';
    if (drop) splits.test = d.clean;
    decontamination = { n: spec.decontaminate.n, action: spec.decontaminate.action, contaminated: d.contaminated.length, dropped: drop ? d.contaminated.length : 0, ids: d.contaminated.slice(0, 100).map((c) => c.id) };
  }
  const version = hashJson({
    spec,
    tokenizer: counter.source,
    maxSeqLength: o.maxSeqLength,
    splits: Object.fromEntries(Object.entries(splits).map(([k, v]) => [k, (v as Example[]).map((e) => hashJson(e))])),
  }).slice(0, 16);
  const prefix = `datasets/${spec.name}/${version}`;
  const uri = (f: string) => o.artifacts.uri(`${prefix}/${f}`);

  const stats: DatasetStats = {
    input: src.input,
    invalid: src.invalid,
    exactDuplicates,
    nearDuplicates,
    tooLong,
    kept: fitting.length - (decontamination?.dropped ?? 0),
    splits: { train: splits.train.length, validation: splits.validation.length, test: splits.test.length },
    groups,
    ...(decontamination && { decontamination }),
    tokens: tokenStats([...lengths.values()]),
    tokenizer: `${counter.source}${counter.templated ? ' (chat template)' : ' (contents + role allowance)'}`,
    ...('teacher' in src && src.teacher ? { teacher: src.teacher } : {}),
  };
  const ref: DatasetRef = {
    name: spec.name,
    version,
    manifestUri: uri('manifest.json'),
    trainUri: uri('train.jsonl'),
    validationUri: uri('validation.jsonl'),
    testUri: uri('test.jsonl'),
    cardUri: uri('README.md'),
    statsUri: uri('stats.json'),
    counts: stats.splits,
    format: spec.format,
  };
  const manifest: DatasetManifest = {
    ...ref,
    spec,
    stats,
    lineage: { workflowId: o.lineage.workflowId, runId: o.lineage.runId, sourceUri: spec.source.uri, sourceHash: src.sourceHash },
  };
  o.heartbeat?.({ phase: 'write', version });
  await o.artifacts.putJsonl(ref.trainUri, splits.train);
  await o.artifacts.putJsonl(ref.validationUri, splits.validation);
  await o.artifacts.putJsonl(ref.testUri, splits.test);
  await o.artifacts.putJson(ref.statsUri, { ...stats, problems: src.problems.slice(0, 100) });
  const sample = splits.train[0];
  await o.artifacts.putBytes(
    ref.cardUri,
    datasetCard(
      manifest,
      sample && {
        user: sample.messages.find((m) => m.role === 'user')?.content ?? '',
        assistant: sample.messages.at(-1)?.content ?? '',
      },
    ),
    'text/markdown; charset=utf-8',
  );
  // The manifest goes last: its presence says the version is complete.
  await o.artifacts.putJson(ref.manifestUri, manifest);
  return { ...ref, problems: src.problems.slice(0, 20) };
}
