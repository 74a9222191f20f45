/**
 * The HTTP API's OpenAPI 3.1 document, generated from the same zod schemas that validate requests (zod 4's
 * z.toJSONSchema), plus response schemas written here in zod (tests validate real responses against them, so the
 * document cannot drift from what the server sends).
 */
import { z } from 'zod';
import { FILTER_FIELDS } from '../lib/vectorstore/types';
import { askRequestSchema, searchRequestSchema } from './options';

const payloadSchema = z
  .object({
    docId: z.string(),
    chunkIndex: z.number(),
    parentId: z.string(),
    sourceId: z.string(),
    sourceType: z.string(),
    location: z.string(),
    url: z.string().optional(),
    title: z.string().optional(),
    author: z.string().optional(),
    publishedAt: z.string().optional(),
    publishedTs: z.number().optional(),
    tags: z.array(z.string()),
    headingPath: z.string(),
  })
  .loose();

export const hitSchema = z.object({
  id: z.string(),
  collection: z.string(),
  score: z.number(),
  rerankScore: z.number().optional(),
  text: z.string(),
  payload: payloadSchema,
});

const traceSchema = z
  .object({
    query: z.string(),
    collections: z.array(z.string()),
    filter: z.object({ must: z.array(z.object({ field: z.enum(FILTER_FIELDS) }).loose()) }).optional(),
    rewritten: z.string().optional(),
    expansions: z.array(z.string()).optional(),
    hyde: z.string().optional(),
    lists: z.number(),
    candidates: z.number(),
    reranker: z.string().optional(),
    timings: z.record(z.string(), z.number()),
    warnings: z.array(z.string()),
  })
  .loose();

export const searchResponseSchema = z.object({
  query: z.string(),
  retrieval: z.boolean(),
  hits: z.array(hitSchema),
  trace: traceSchema,
});

export const sourceSchema = z.object({
  n: z.number().int(),
  docId: z.string(),
  collection: z.string(),
  title: z.string().optional(),
  url: z.string().optional(),
  location: z.string(),
  headingPath: z.string(),
  parentId: z.string().optional(),
  text: z.string(),
  chunkIds: z.array(z.string()),
  score: z.number(),
});

const compressionSchema = z.object({
  budget: z.number(),
  tokensBefore: z.number(),
  tokensAfter: z.number(),
  unitsBefore: z.number(),
  unitsAfter: z.number(),
  sourcesDropped: z.number(),
  fits: z.boolean(),
  ms: z.number(),
});

export const askResultSchema = z.object({
  question: z.string(),
  answer: z.string().optional(),
  generated: z.boolean(),
  message: z.string().optional(),
  sources: z.array(sourceSchema),
  citations: z.array(sourceSchema),
  invalidCitations: z.array(z.number()),
  compression: compressionSchema.optional(),
  usage: z.object({ promptTokens: z.number(), completionTokens: z.number(), totalTokens: z.number() }).optional(),
  model: z.string().optional(),
  trace: traceSchema,
});

export const contextEventSchema = z.object({ sources: z.array(sourceSchema), retrieval: z.boolean(), compression: compressionSchema.optional() });
export const deltaEventSchema = z.object({ text: z.string() });

export const errorSchema = z.object({
  error: z.string().describe('what went wrong, naming the field for invalid input'),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

const json = (schema: z.ZodType, io: 'input' | 'output' = 'output') => z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' });

export function openApiDocument(opts: { serverUrl?: string; auth: boolean; version: string }): Record<string, unknown> {
  const errors = (extra: Record<string, string> = {}) =>
    Object.fromEntries(
      Object.entries({ '400': 'invalid request: the message names the field', ...(opts.auth && { '401': 'missing or wrong bearer token' }), '404': 'collection not found', ...extra }).map(
        ([code, description]) => [code, { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }],
      ),
    );
  const security = opts.auth ? [{ bearer: [] }] : [];
  return {
    openapi: '3.1.0',
    info: {
      title: 'twinflow retrieval API',
      version: opts.version,
      description: 'Search the feature store and ask questions answered from it with citations. Every retrieval technique is switchable per request.',
    },
    ...(opts.serverUrl && { servers: [{ url: opts.serverUrl }] }),
    paths: {
      '/v1/search': {
        post: {
          operationId: 'search',
          summary: 'Ranked chunks for a query',
          security,
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/SearchRequest' } } } },
          responses: {
            '200': { description: 'ranked hits with the retrieval trace', content: { 'application/json': { schema: { $ref: '#/components/schemas/SearchResponse' } } } },
            ...errors(),
          },
        },
      },
      '/v1/ask': {
        post: {
          operationId: 'ask',
          summary: 'Answer a question from the retrieved sources, with citations',
          description:
            'Streams by default: Server-Sent Events (`text/event-stream`, events `context`, `delta`, `done`, `error`), or NDJSON ' +
            '(one JSON object per line with a `type` field) when the request sends `Accept: application/x-ndjson`. With ' +
            '`"stream": false` the whole result comes as one JSON object. Without an LLM configured, the result carries ' +
            'the retrieved context and a message saying so.',
          security,
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/AskRequest' } } } },
          responses: {
            '200': {
              description: 'the answer: streamed, or as one object',
              content: {
                'application/json': { schema: { $ref: '#/components/schemas/AskResult' } },
                'text/event-stream': { schema: { type: 'string', description: 'event: context | delta | done | error; data: JSON (ContextEvent, DeltaEvent, AskResult, Error)' } },
                'application/x-ndjson': { schema: { type: 'string', description: '{"type":"context",...}\\n{"type":"delta","text":...}\\n...{"type":"done","result":AskResult}' } },
              },
            },
            ...errors(),
          },
        },
      },
      '/openapi.json': { get: { operationId: 'openapi', summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1 document' } } } },
      '/healthz': { get: { operationId: 'health', summary: 'Liveness', responses: { '200': { description: 'ok' } } } },
    },
    components: {
      schemas: {
        SearchRequest: json(searchRequestSchema, 'input'),
        AskRequest: json(askRequestSchema, 'input'),
        SearchResponse: json(searchResponseSchema),
        AskResult: json(askResultSchema),
        ContextEvent: json(contextEventSchema),
        DeltaEvent: json(deltaEventSchema),
        Error: json(errorSchema),
      },
      ...(opts.auth && { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } }),
    },
  };
}
