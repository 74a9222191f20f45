/**
 * Query routing: decides from the question where to search (collections, source types) or that no retrieval is
 * needed (greetings, arithmetic). Routes come from config (RAG_ROUTES, a YAML or JSON file) or the defaults below;
 * a question is routed by the routes' regular expressions (first match wins) or by an LLM choosing one of the
 * routes' labels (a fixed set, validated). A route's source types are checked against the catalog: types the
 * collection does not hold are dropped, so routing never empties a search by naming absent data.
 */
import fs from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import { sourceTypeSchema } from '../lib/schemas/documents';
import { formatZodError } from '../lib/schemas/validate';
import type { Filter } from '../lib/vectorstore/types';
import type { Catalog } from './catalog';
import type { RagChat } from './llm';
import { routingPrompt } from './prompts';

const pattern = z.string().min(1).superRefine((p, ctx) => {
  try {
    new RegExp(p, 'iu');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(err as Error).message}` });
  }
});

export const routeSchema = z
  .object({
    label: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'expected a lowercase label (letters, digits, _ or -)'),
    description: z.string().min(1),
    /** Case-insensitive regular expressions; the first route with a matching pattern wins. */
    patterns: z.array(pattern).default([]),
    /** False: answer without retrieval (small talk, arithmetic). */
    retrieve: z.boolean().default(true),
    /** Collections to search instead of the request's; default: the request's. */
    collections: z.array(z.string().min(1)).min(1).optional(),
    sourceTypes: z.array(sourceTypeSchema).min(1).optional(),
  })
  .strict();
export type Route = z.output<typeof routeSchema>;

export const routingConfigSchema = z
  .object({ routes: z.array(routeSchema).min(1), fallback: z.string() })
  .strict()
  .superRefine((c, ctx) => {
    const labels = c.routes.map((r) => r.label);
    labels.forEach((l, i) => {
      if (labels.indexOf(l) !== i) ctx.addIssue({ code: 'custom', message: `duplicate label ${JSON.stringify(l)}`, path: ['routes', i, 'label'] });
    });
    if (!labels.includes(c.fallback)) ctx.addIssue({ code: 'custom', message: `not one of the route labels (${labels.join(', ')})`, path: ['fallback'] });
  });
export type RoutingConfig = z.output<typeof routingConfigSchema>;

export const DEFAULT_ROUTING: RoutingConfig = routingConfigSchema.parse({
  fallback: 'all',
  routes: [
    {
      label: 'none',
      description: 'small talk, greetings, thanks, or arithmetic: nothing to look up',
      retrieve: false,
      patterns: [
        '^\\s*(hi|hello|hey|hiya|thanks|thank you|cheers|good (morning|afternoon|evening)|bye|goodbye)\\b[\\s!.,:)]*(there|all|everyone)?[\\s!.,:)]*$',
        '^\\s*(what is|what\'s|how much is|calculate)?\\s*[\\d.]+(\\s*[-+*/x×÷^]\\s*[\\d.]+)+\\s*[=?]*\\s*$',
      ],
    },
    {
      label: 'code',
      description: 'questions about source code: functions, classes, repositories, how something is implemented',
      sourceTypes: ['git'],
      patterns: ['\\b(source code|code snippet|function|class|method|implementation|implemented|repository|repo|compile|stack trace)\\b'],
    },
    {
      label: 'articles',
      description: 'questions about articles, blog posts, news and documentation pages',
      sourceTypes: ['web', 'folder', 's3'],
      patterns: ['\\b(article|articles|blog|post|posts|news|essay|wrote|written|reported|interview)\\b'],
    },
    { label: 'all', description: 'anything else: search everything' },
  ],
});

export function loadRoutingConfig(file: string): RoutingConfig {
  let raw: unknown;
  try {
    raw = YAML.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`RAG_ROUTES: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = routingConfigSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`RAG_ROUTES: ${file}: ${formatZodError(parsed.error)}`);
  return parsed.data;
}

export interface RouteDecision {
  label: string;
  method: 'rules' | 'llm';
  retrieve: boolean;
  collections?: string[];
  filter?: Filter;
  /** The pattern or LLM answer that chose the route. */
  reason: string;
  /** Parts of the route dropped against the catalog. */
  ignored: string[];
}

export function routeByRules(question: string, config: RoutingConfig): { route: Route; reason: string } {
  for (const route of config.routes) {
    for (const p of route.patterns) {
      const m = new RegExp(p, 'iu').exec(question);
      if (m) return { route, reason: `matched ${JSON.stringify(m[0].trim())}` };
    }
  }
  return { route: config.routes.find((r) => r.label === config.fallback)!, reason: 'no pattern matched (fallback)' };
}

export async function routeByLlm(llm: RagChat, question: string, config: RoutingConfig, signal?: AbortSignal): Promise<{ route: Route; reason: string }> {
  const labels = config.routes.map((r) => r.label) as [string, ...string[]];
  const schema = z.object({ label: z.enum(labels) });
  const { value } = await llm.chatJson(schema, routingPrompt(question, config.routes), { temperature: 0, signal });
  return { route: config.routes.find((r) => r.label === value.label)!, reason: `llm chose ${value.label}` };
}

/** Turns the chosen route into a decision, its source types validated against what the collection holds. */
export function decide(route: Route, reason: string, method: 'rules' | 'llm', catalog: Catalog | undefined): RouteDecision {
  const decision: RouteDecision = { label: route.label, method, retrieve: route.retrieve, collections: route.collections, reason, ignored: [] };
  if (!route.retrieve || !route.sourceTypes || !catalog) return decision;
  const present: string[] = route.sourceTypes.filter((t) => catalog.sourceTypes.includes(t));
  if (present.length === 0) decision.ignored.push(`source types ${route.sourceTypes.join(', ')}: none in the collection, searching everything`);
  else if (catalog.sourceTypes.every((t) => present.includes(t))) decision.ignored.push(`source types ${present.join(', ')}: the collection holds nothing else`);
  else decision.filter = { must: [present.length === 1 ? { field: 'sourceType', eq: present[0]! } : { field: 'sourceType', in: present }] };
  return decision;
}
