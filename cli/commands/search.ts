/**
 * `twinflow search "query"`: ranked chunks from the feature store, every retrieval technique switchable by a flag.
 * The retrieval flags are shared with `twinflow ask`.
 */
import { type Command, Option } from 'commander';
import { loadConfig } from '../../lib/config';
import { InputValidationError } from '../../lib/schemas/validate';
import type { SearchRequest } from '../../rag/options';
import type { RetrievalTrace, RetrievedHit } from '../../rag/retrieve';

export interface RetrievalFlags {
  collection: string[];
  limit?: string;
  candidates?: string;
  mode?: 'vector' | 'keyword' | 'hybrid';
  alpha?: string;
  filter?: string;
  routing?: 'off' | 'rules' | 'llm';
  rewrite?: boolean;
  expansion?: string;
  selfQuery?: 'off' | 'rules' | 'llm';
  hyde?: boolean;
  rerank?: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function addRetrievalOptions(cmd: Command): Command {
  return cmd
    .option('-c, --collection <name>', 'collection to search (repeatable; default RAG_COLLECTIONS)', collect, [])
    .option('-k, --limit <n>', 'results to keep (default 5)')
    .option('--candidates <n>', 'candidates per retrieval list before fusion and re-ranking (default 30)')
    .addOption(new Option('--mode <mode>', 'vector, keyword or hybrid (default hybrid)').choices(['vector', 'keyword', 'hybrid']))
    .option('--alpha <x>', 'hybrid fusion by weight: alpha·vector + (1−alpha)·keyword (default: RRF)')
    .option('--filter <json>', 'payload filter, e.g. \'{"must":[{"field":"author","eq":"Jane Doe"}]}\'')
    .addOption(new Option('--routing <how>', 'query routing').choices(['off', 'rules', 'llm']))
    .option('--rewrite', 'rewrite the query with the LLM')
    .option('--no-rewrite', 'do not rewrite')
    .option('--expansion <n>', 'search N LLM reformulations too and fuse them (0 = off)')
    .addOption(new Option('--self-query <how>', 'filters from the entities of the question').choices(['off', 'rules', 'llm']))
    .option('--hyde', 'search with an LLM-written hypothetical answer too')
    .option('--no-hyde', 'no HyDE')
    .option('--rerank', 're-rank with the cross-encoder')
    .option('--no-rerank', 'do not re-rank')
    .option('--json', 'print the whole result as JSON');
}

function num(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InputValidationError(`${flag}: expected a number, got ${JSON.stringify(value)}`);
  return n;
}

/** Flags → the request options (validated by the same zod schema as the API, inside rag). */
export function retrievalOptionsFromFlags(f: RetrievalFlags): Omit<SearchRequest, 'query'> {
  let filter: unknown;
  if (f.filter !== undefined) {
    try {
      filter = JSON.parse(f.filter);
    } catch (err) {
      throw new InputValidationError(`--filter: not JSON: ${(err as Error).message}`);
    }
  }
  const alpha = num(f.alpha, '--alpha');
  return {
    ...(f.collection.length && { collections: f.collection }),
    ...(f.limit !== undefined && { limit: num(f.limit, '--limit') }),
    ...(f.candidates !== undefined && { candidates: num(f.candidates, '--candidates') }),
    ...(f.mode && { mode: f.mode }),
    ...(alpha !== undefined && { fusion: { alpha } }),
    ...(filter !== undefined && { filter: filter as SearchRequest['filter'] }),
    ...(f.routing && { routing: f.routing }),
    ...(f.rewrite !== undefined && { rewrite: f.rewrite }),
    ...(f.expansion !== undefined && { expansion: num(f.expansion, '--expansion') }),
    ...(f.selfQuery && { selfQuery: f.selfQuery }),
    ...(f.hyde !== undefined && { hyde: f.hyde }),
    ...(f.rerank !== undefined && { rerank: f.rerank }),
  };
}

export function describeTrace(t: RetrievalTrace): string[] {
  const lines: string[] = [];
  if (t.route) lines.push(`route: ${t.route.label} (${t.route.method}: ${t.route.reason})${t.route.ignored.length ? `; ${t.route.ignored.join('; ')}` : ''}`);
  if (t.selfQuery && (t.selfQuery.applied.length || t.selfQuery.ignored.length)) {
    lines.push(`self-query (${t.selfQuery.method}): ${[...t.selfQuery.applied, ...t.selfQuery.ignored.map((i) => `ignored ${i}`)].join('; ')}`);
  }
  if (t.rewritten) lines.push(`rewritten: ${t.rewritten}`);
  if (t.expansions) lines.push(`expansions: ${t.expansions.map((e) => JSON.stringify(e)).join(', ')}`);
  if (t.hyde) lines.push(`HyDE: ${t.hyde.slice(0, 120)}${t.hyde.length > 120 ? '…' : ''}`);
  if (t.reranker) lines.push(`re-ranked ${t.candidates} candidates with ${t.reranker}`);
  for (const w of t.warnings) lines.push(`warning: ${w}`);
  lines.push(`timings: ${Object.entries(t.timings).map(([k, v]) => `${k} ${v} ms`).join(', ')}`);
  return lines;
}

function snippet(text: string, max = 240): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function formatHits(hits: RetrievedHit[]): string {
  if (hits.length === 0) return 'no results';
  return hits
    .map((h, i) => {
      const score = h.rerankScore !== undefined ? `rerank ${h.rerankScore.toFixed(3)}` : `score ${h.score.toFixed(4)}`;
      const where = h.payload.url ?? h.payload.location;
      return [`${i + 1}. ${h.payload.title ?? where}  (${score})`, `   ${where}${h.payload.headingPath ? `  § ${h.payload.headingPath}` : ''}`, `   ${snippet(h.text)}`].join('\n');
    })
    .join('\n');
}

export function registerSearchCommand(program: Command): void {
  const cmd = program.command('search').description('search the feature store: ranked chunks for a query').argument('<query...>', 'the query');
  addRetrievalOptions(cmd).action(async (words: string[], flags: RetrievalFlags) => {
    const config = loadConfig();
    // Flags first: a typo fails before the model loads.
    const request = { query: words.join(' '), ...retrievalOptionsFromFlags(flags) };
    const { createRagFromConfig } = await import('../../rag/from-config');
    const { rag, close } = await createRagFromConfig(config);
    try {
      const res = await rag.search(request);
      if (flags.json) console.log(JSON.stringify(res, null, 2));
      else {
        console.log(formatHits(res.hits));
        console.log(`\n${describeTrace(res.trace).join('\n')}`);
      }
    } finally {
      await close();
    }
  });
}
