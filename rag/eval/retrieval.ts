/**
 * `twinflow eval retrieval`: runs a labelled query set through several retrieval configurations of one Rag and
 * reports recall@k, MRR and nDCG@10 (document level) side by side, with latency; plus prompt compression's token
 * saving and whether the answering text (a query's `evidence`) and the relevant documents survive it. Configurations
 * that need what the deployment lacks (an LLM, a re-ranker) are listed as skipped, with the reason.
 */
import type { AskRequest, SearchRequest } from '../options';
import type { Rag } from '../rag';
import { meanScores, scoreRanking, type QueryScores } from './metrics';
import type { ResolvedQuery } from './queries';

export type Needs = 'llm' | 'reranker';

export interface EvalConfig {
  name: string;
  options: Omit<SearchRequest, 'query'>;
  needs: Needs[];
}

const BASE = { routing: 'off', rewrite: false, expansion: 0, selfQuery: 'off', hyde: false, rerank: false } as const;

/** The configurations compared by default: each technique on its own over hybrid, then combinations. */
export function standardConfigs(expansion = 3): EvalConfig[] {
  return [
    { name: 'vector', options: { ...BASE, mode: 'vector' }, needs: [] },
    { name: 'keyword', options: { ...BASE, mode: 'keyword' }, needs: [] },
    { name: 'hybrid', options: { ...BASE, mode: 'hybrid', fusion: 'rrf' }, needs: [] },
    { name: 'hybrid α=0.5', options: { ...BASE, mode: 'hybrid', fusion: { alpha: 0.5 } }, needs: [] },
    { name: 'hybrid + self-query (rules)', options: { ...BASE, mode: 'hybrid', selfQuery: 'rules' }, needs: [] },
    { name: 'hybrid + re-rank', options: { ...BASE, mode: 'hybrid', rerank: true }, needs: ['reranker'] },
    { name: 'hybrid + expansion', options: { ...BASE, mode: 'hybrid', expansion }, needs: ['llm'] },
    { name: 'hybrid + self-query (LLM)', options: { ...BASE, mode: 'hybrid', selfQuery: 'llm' }, needs: ['llm'] },
    { name: 'hybrid + HyDE', options: { ...BASE, mode: 'hybrid', hyde: true }, needs: ['llm'] },
    { name: 'hybrid + re-rank + self-query (rules)', options: { ...BASE, mode: 'hybrid', rerank: true, selfQuery: 'rules' }, needs: ['reranker'] },
    { name: 'hybrid + re-rank + expansion + self-query (LLM)', options: { ...BASE, mode: 'hybrid', rerank: true, expansion, selfQuery: 'llm' }, needs: ['reranker', 'llm'] },
  ];
}

export interface ConfigResult {
  name: string;
  options: Omit<SearchRequest, 'query'>;
  skipped?: string;
  mean?: QueryScores;
  byKind?: Record<string, QueryScores>;
  latencyMs?: { mean: number; p95: number };
  perQuery?: PerQueryResult[];
}

export interface PerQueryResult {
  id: string;
  kind?: string;
  ranking: string[];
  scores: QueryScores;
  ms: number;
  warnings: string[];
}

export interface CompressionResult {
  config: string;
  budget: number;
  queries: number;
  tokensBefore: { mean: number; total: number };
  tokensAfter: { mean: number; total: number };
  saving: number;
  /** Share of queries (with evidence) whose evidence text is in the context: without / with compression. */
  evidenceKept?: { without: number; with: number; queries: number };
  /** Share of relevant documents present among the sources: without / with compression. */
  relevantKept: { without: number; with: number };
  compressionMs: { mean: number };
}

export interface RetrievalEvalReport {
  collection: string[];
  queries: number;
  ks: number[];
  depth: number;
  configs: ConfigResult[];
  compression?: CompressionResult;
  warnings: string[];
  startedAt: string;
  ms: number;
}

export interface RetrievalEvalOptions {
  ks?: number[];
  /** Chunks retrieved per query (documents are ranked by their first chunk). Default 30. */
  depth?: number;
  configs?: EvalConfig[];
  collections?: string[];
  /** Prompt compression budget to evaluate (tokens); undefined = skip that part. */
  compressionBudget?: number;
  /** Configuration whose context compression is evaluated (default: the best by nDCG@10). */
  compressionConfig?: string;
  warnings?: string[];
  onProgress?: (line: string) => void;
  /** Called after every query of every configuration (a workflow activity heartbeats here). */
  onQuery?: () => void;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

export async function evaluateRetrieval(rag: Rag, queries: ResolvedQuery[], opts: RetrievalEvalOptions = {}): Promise<RetrievalEvalReport> {
  const started = Date.now();
  const ks = opts.ks ?? [1, 3, 5, 10];
  const depth = opts.depth ?? 30;
  const caps = { llm: rag.deps.llm !== undefined, reranker: rag.deps.reranker !== undefined };
  const report: RetrievalEvalReport = {
    collection: opts.collections ?? rag.deps.collections ?? ['twinflow'],
    queries: queries.length,
    ks,
    depth,
    configs: [],
    warnings: [...(opts.warnings ?? [])],
    startedAt: new Date(started).toISOString(),
    ms: 0,
  };
  for (const config of opts.configs ?? standardConfigs()) {
    const missing = config.needs.filter((n) => !caps[n]);
    if (missing.length) {
      report.configs.push({ name: config.name, options: config.options, skipped: `needs ${missing.map((m) => (m === 'llm' ? 'an LLM (LLM_BASE_URL)' : 'a re-ranker (RERANKER_MODEL or RERANKER_URL)')).join(' and ')}` });
      continue;
    }
    opts.onProgress?.(`${config.name}: ${queries.length} queries`);
    const perQuery: PerQueryResult[] = [];
    for (const q of queries) {
      const t = performance.now();
      const res = await rag.search({ ...config.options, query: q.query, limit: depth, candidates: Math.max(depth, config.options.candidates ?? 0), ...(opts.collections && { collections: opts.collections }) });
      const ms = performance.now() - t;
      const ranking = [...new Set(res.hits.map((h) => h.payload.docId))];
      perQuery.push({ id: q.id, ...(q.kind && { kind: q.kind }), ranking, scores: scoreRanking(ranking, q.relevant, ks), ms: Math.round(ms * 10) / 10, warnings: res.trace.warnings });
      opts.onQuery?.();
    }
    report.configs.push(summariseConfig(config.name, config.options, perQuery, ks));
  }

  if (opts.compressionBudget !== undefined) {
    if (!rag.deps.tokenizer) report.warnings.push('compression: skipped, no tokenizer configured');
    else {
      const ran = report.configs.filter((c) => c.mean);
      const chosen = opts.compressionConfig ? ran.find((c) => c.name === opts.compressionConfig) : [...ran].sort((a, b) => b.mean!.ndcg10 - a.mean!.ndcg10)[0];
      if (!chosen) report.warnings.push(`compression: skipped, configuration ${JSON.stringify(opts.compressionConfig)} did not run`);
      else report.compression = await evaluateCompression(rag, queries, chosen, opts.compressionBudget, opts);
    }
  }
  report.ms = Date.now() - started;
  return report;
}

/** Means, means by kind of query and latency of one configuration's per-query results. */
export function summariseConfig(name: string, options: EvalConfig['options'], perQuery: PerQueryResult[], ks: number[]): ConfigResult {
  const kinds = [...new Set(perQuery.map((p) => p.kind ?? 'other'))].sort();
  return {
    name,
    options,
    mean: meanScores(
      perQuery.map((p) => p.scores),
      ks,
    ),
    byKind: Object.fromEntries(
      kinds.map((k) => [
        k,
        meanScores(
          perQuery.filter((p) => (p.kind ?? 'other') === k).map((p) => p.scores),
          ks,
        ),
      ]),
    ),
    latencyMs: { mean: Math.round(mean(perQuery.map((p) => p.ms)) * 10) / 10, p95: percentile(perQuery.map((p) => p.ms), 95) },
    perQuery,
  };
}

/**
 * One report from the reports of disjoint parts of a query set (the workflow evaluates big sets in batches):
 * per-query results are concatenated and every mean recomputed, so the result equals one run over the whole set.
 */
export function mergeReports(parts: RetrievalEvalReport[], extraWarnings: string[] = []): RetrievalEvalReport {
  if (parts.length === 0) throw new Error('mergeReports: no reports to merge');
  const [first] = parts;
  for (const p of parts) {
    if (p.depth !== first!.depth || p.ks.join() !== first!.ks.join() || p.configs.map((c) => c.name).join('\0') !== first!.configs.map((c) => c.name).join('\0')) {
      throw new Error('mergeReports: the reports were made with different settings (depth, ks or configurations)');
    }
  }
  const configs = first!.configs.map((c, i) => {
    const skipped = parts.map((p) => p.configs[i]!.skipped).find(Boolean);
    if (skipped) return { name: c.name, options: c.options, skipped };
    return summariseConfig(
      c.name,
      c.options,
      parts.flatMap((p) => p.configs[i]!.perQuery ?? []),
      first!.ks,
    );
  });
  const startedAt = parts.map((p) => p.startedAt).sort()[0]!;
  return {
    collection: first!.collection,
    queries: parts.reduce((n, p) => n + p.queries, 0),
    ks: first!.ks,
    depth: first!.depth,
    configs,
    warnings: [...new Set([...extraWarnings, ...parts.flatMap((p) => p.warnings)])],
    startedAt,
    ms: Math.max(...parts.map((p) => Date.parse(p.startedAt) + p.ms)) - Date.parse(startedAt),
  };
}

async function evaluateCompression(rag: Rag, queries: ResolvedQuery[], config: ConfigResult, budget: number, opts: RetrievalEvalOptions): Promise<CompressionResult> {
  opts.onProgress?.(`compression to ${budget} tokens over ${config.name}`);
  const tokenizer = rag.deps.tokenizer!;
  const before: number[] = [];
  const after: number[] = [];
  const ms: number[] = [];
  let evidenceWithout = 0;
  let evidenceWith = 0;
  let evidenceQueries = 0;
  let relevantWithout = 0;
  let relevantWith = 0;
  let relevantTotal = 0;
  const normal = (s: string) => s.replace(/\s+/g, ' ').toLowerCase();
  for (const q of queries) {
    const req: AskRequest = { ...config.options, question: q.query, smallToBig: true, ...(opts.collections && { collections: opts.collections }) };
    const full = await rag.context({ ...req, compression: false });
    const small = await rag.context({ ...req, compression: { maxTokens: budget } });
    const fullText = full.sources.map((s) => s.text).join('\n');
    before.push(small.compression?.tokensBefore ?? tokenizer.count(fullText));
    after.push(small.compression?.tokensAfter ?? tokenizer.count(fullText));
    ms.push(small.compression?.ms ?? 0);
    if (q.evidence) {
      evidenceQueries++;
      if (normal(fullText).includes(normal(q.evidence))) evidenceWithout++;
      if (normal(small.sources.map((s) => s.text).join('\n')).includes(normal(q.evidence))) evidenceWith++;
    }
    relevantTotal += q.relevant.size;
    relevantWithout += [...q.relevant].filter((d) => full.sources.some((s) => s.docId === d)).length;
    relevantWith += [...q.relevant].filter((d) => small.sources.some((s) => s.docId === d)).length;
  }
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    config: config.name,
    budget,
    queries: queries.length,
    tokensBefore: { mean: Math.round(mean(before)), total: sum(before) },
    tokensAfter: { mean: Math.round(mean(after)), total: sum(after) },
    saving: sum(before) ? 1 - sum(after) / sum(before) : 0,
    ...(evidenceQueries > 0 && { evidenceKept: { without: evidenceWithout / evidenceQueries, with: evidenceWith / evidenceQueries, queries: evidenceQueries } }),
    relevantKept: { without: relevantTotal ? relevantWithout / relevantTotal : 0, with: relevantTotal ? relevantWith / relevantTotal : 0 },
    compressionMs: { mean: Math.round(mean(ms)) },
  };
}

const f3 = (x: number) => x.toFixed(3);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function reportMarkdown(r: RetrievalEvalReport): string {
  const lines: string[] = [];
  lines.push(`### Retrieval quality: ${r.queries} queries, collection ${r.collection.join(', ')}`, '');
  lines.push(`Document-level metrics over the top ${r.depth} chunks (a document ranks at its first chunk).`, '');
  lines.push(`| configuration | ${r.ks.map((k) => `R@${k}`).join(' | ')} | MRR | nDCG@10 | mean ms | p95 ms |`);
  lines.push(`|---|${r.ks.map(() => '---:').join('|')}|---:|---:|---:|---:|`);
  for (const c of r.configs) {
    if (!c.mean) {
      lines.push(`| ${c.name} | ${r.ks.map(() => '–').join(' | ')} | – | – | – | – |`);
      continue;
    }
    lines.push(`| ${c.name} | ${r.ks.map((k) => f3(c.mean!.recall[k] ?? 0)).join(' | ')} | ${f3(c.mean.mrr)} | ${f3(c.mean.ndcg10)} | ${c.latencyMs!.mean} | ${c.latencyMs!.p95} |`);
  }
  const skipped = r.configs.filter((c) => c.skipped);
  if (skipped.length) lines.push('', ...skipped.map((c) => `- ${c.name}: skipped, ${c.skipped}`));
  const ran = r.configs.filter((c) => c.byKind);
  if (ran.length) {
    const kinds = Object.keys(ran[0]!.byKind!);
    lines.push('', '#### MRR by kind of query', '');
    lines.push(`| kind | ${ran.map((c) => c.name).join(' | ')} |`);
    lines.push(`|---|${ran.map(() => '---:').join('|')}|`);
    for (const k of kinds) lines.push(`| ${k} | ${ran.map((c) => f3(c.byKind![k]?.mrr ?? 0)).join(' | ')} |`);
  }
  if (r.compression) {
    const c = r.compression;
    lines.push('', `#### Prompt compression to ${c.budget} tokens (context of "${c.config}", small-to-big)`, '');
    lines.push('| | without | with |', '|---|---:|---:|');
    lines.push(`| context tokens (mean) | ${c.tokensBefore.mean} | ${c.tokensAfter.mean} |`);
    lines.push(`| relevant documents in the context | ${pct(c.relevantKept.without)} | ${pct(c.relevantKept.with)} |`);
    if (c.evidenceKept) lines.push(`| answering text kept (${c.evidenceKept.queries} queries) | ${pct(c.evidenceKept.without)} | ${pct(c.evidenceKept.with)} |`);
    lines.push('', `Token saving ${pct(c.saving)}; compression takes ${c.compressionMs.mean} ms per query on average (sentence embeddings).`);
  }
  if (r.warnings.length) lines.push('', 'Warnings:', ...r.warnings.map((w) => `- ${w}`));
  return `${lines.join('\n')}\n`;
}
