/**
 * Every prompt retrieval and generation send to the LLM, in one place so they can be read and tuned together. Each
 * returns chat messages; the JSON-returning ones pair with a zod schema in the module that calls them.
 */
import type { ChatMessage } from '../lib/llm/types';

export function rewritePrompt(question: string): ChatMessage[] {
  return [
    {
      role: 'system',
      content:
        'You rewrite questions into search queries for a document index of articles, documentation and source code. ' +
        'Keep every name, number and technical term; drop greetings and filler; use the words the documents themselves ' +
        'would likely use. Answer with JSON: {"query": "<the rewritten query>"}.',
    },
    { role: 'user', content: question },
  ];
}

export function expansionPrompt(question: string, n: number): ChatMessage[] {
  return [
    {
      role: 'system',
      content:
        `You help a search engine find documents. Write ${n} different reformulations of the user's question, each one ` +
        'approaching it from another angle (synonyms, a more specific phrasing, a more general phrasing, the terms an ' +
        `expert would use). Keep names and numbers. Answer with JSON: {"queries": ["...", ...]} with exactly ${n} strings.`,
    },
    { role: 'user', content: question },
  ];
}

export function hydePrompt(question: string): ChatMessage[] {
  return [
    {
      role: 'system',
      content:
        'Write a short passage (3 to 5 sentences) that answers the question the way an article or documentation page ' +
        'would. It is used only to search for similar real passages, so plausible wording matters more than accuracy. ' +
        'Answer with the passage only.',
    },
    { role: 'user', content: question },
  ];
}

export function routingPrompt(question: string, routes: Array<{ label: string; description: string }>): ChatMessage[] {
  const list = routes.map((r) => `- ${r.label}: ${r.description}`).join('\n');
  return [
    {
      role: 'system',
      content:
        'Classify the question to decide where a retrieval system should search. Labels:\n' +
        `${list}\n` +
        'Answer with JSON: {"label": "<one of the labels>"}.',
    },
    { role: 'user', content: question },
  ];
}

export interface CatalogSummary {
  authors: string[];
  sources: string[];
  sourceTypes: string[];
  tags: string[];
  published?: { from: string; to: string };
}

export function selfQueryPrompt(question: string, catalog: CatalogSummary, today: string): ChatMessage[] {
  const known = [
    `authors: ${catalog.authors.length ? catalog.authors.map((a) => JSON.stringify(a)).join(', ') : '(none)'}`,
    `sources: ${catalog.sources.join(', ') || '(none)'}`,
    `source types: ${catalog.sourceTypes.join(', ') || '(none)'}`,
    `tags: ${catalog.tags.join(', ') || '(none)'}`,
    `publication dates: ${catalog.published ? `${catalog.published.from} to ${catalog.published.to}` : '(none indexed)'}`,
  ].join('\n');
  return [
    {
      role: 'system',
      content:
        'Extract search filters from a question. Only fill a field when the question explicitly restricts it (an author ' +
        'named as the writer, a source or site, a kind of source, a tag, a time period); otherwise leave it empty or null. ' +
        `Today is ${today}. Dates are ISO 8601 (YYYY-MM-DD), publishedAfter inclusive start, publishedBefore inclusive end.\n` +
        `The index holds:\n${known}\n` +
        'Answer with JSON: {"authors": [], "sources": [], "sourceTypes": [], "tags": [], "publishedAfter": null, "publishedBefore": null}.',
    },
    { role: 'user', content: question },
  ];
}

export interface PromptSource {
  n: number;
  title?: string;
  location: string;
  text: string;
}

/** One numbered source block of the prompt; prompt compression measures its budget on exactly this text. */
export function formatSource(s: PromptSource): string {
  return `[${s.n}] ${s.title ? `${s.title} — ` : ''}${s.location}\n${s.text.trim()}`;
}

export function formatSources(sources: readonly PromptSource[]): string {
  return sources.map(formatSource).join('\n\n');
}

/** The generation prompt: numbered sources, then the question; the model cites sources as [n]. */
export function answerPrompt(question: string, sources: PromptSource[]): ChatMessage[] {
  const context = formatSources(sources);
  return [
    {
      role: 'system',
      content:
        'Answer the question using only the numbered sources below. Cite the sources that support each statement with ' +
        'their numbers in square brackets, e.g. [1] or [2][3]. If the sources do not contain the answer, say that you ' +
        'cannot answer from them. Be concise.\n\n' +
        `Sources:\n${context}`,
    },
    { role: 'user', content: question },
  ];
}
