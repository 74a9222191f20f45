/** Worker telemetry settings, the JSON logger, the pipeline metrics fed from activity results, activity summaries. */
import { describe, expect, it } from 'vitest';
import { metricsRegistry, observeActivity } from '../../../lib/pipeline-metrics';
import { describeMissing, registerCommands } from '../../../workers/search-attributes';
import { JsonLogger, telemetrySettings } from '../../../workers/telemetry';
import { activitySummary, redactUrl } from '../../../workflows/visibility';

describe('telemetrySettings', () => {
  it('is off by default', () => {
    expect(telemetrySettings({})).toEqual({ metricsPort: undefined, metricsHost: '0.0.0.0', logFormat: 'text', logLevel: 'INFO', otlpEndpoint: undefined, serviceName: 'twinflow-worker' });
  });
  it('reads every variable', () => {
    expect(
      telemetrySettings({ TWINFLOW_METRICS_PORT: '9464', TWINFLOW_LOG_FORMAT: 'JSON', TWINFLOW_LOG_LEVEL: 'debug', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318', OTEL_SERVICE_NAME: 'w1' }),
    ).toMatchObject({ metricsPort: 9464, logFormat: 'json', logLevel: 'DEBUG', otlpEndpoint: 'http://otel:4318', serviceName: 'w1' });
  });
  it('names the variable of a bad value in one line', () => {
    expect(() => telemetrySettings({ TWINFLOW_METRICS_PORT: 'abc' })).toThrow('Invalid configuration: TWINFLOW_METRICS_PORT: expected a port number (1-65535; 0 picks a free one), got "abc"');
    expect(() => telemetrySettings({ TWINFLOW_LOG_FORMAT: 'xml' })).toThrow('TWINFLOW_LOG_FORMAT: expected text or json');
    expect(() => telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'otel:4317' })).toThrow('OTEL_EXPORTER_OTLP_ENDPOINT: expected an http(s):// URL');
  });
});

describe('JsonLogger', () => {
  it('writes one JSON object per line with the context, above its level', () => {
    const out: string[] = [];
    const log = new JsonLogger('INFO', (l) => out.push(l));
    log.debug('hidden');
    log.info('Activity completed', { activityId: '1', activityType: 'embedPart', workflowId: 'w', workflowRunId: 'r', durationMs: 5, time: 123n });
    log.error('boom', { error: new Error('bad') });
    expect(out).toHaveLength(2);
    expect(out.every((l) => l.endsWith('\n'))).toBe(true);
    const first = JSON.parse(out[0]!);
    expect(first).toMatchObject({ level: 'INFO', message: 'Activity completed', activityId: '1', workflowId: 'w', runId: 'r', workflowRunId: 'r', durationMs: 5 });
    expect(first.time).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(JSON.parse(out[1]!).error).toMatchObject({ name: 'Error', message: 'bad' });
  });
});

describe('pipeline metrics from activity results', () => {
  it('counts documents by outcome and reason, chunks and vectors', async () => {
    observeActivity('crawlSource', { source: { id: 'unit-src', type: 'web' } }, { fetched: 5, skipped: { excluded: 2 }, failed: { http_404: 1 } });
    observeActivity('cleanPart', { sourceId: 'unit-src' }, { cleanedPart: { count: 4 }, dropped: { too_short: 1 } });
    observeActivity('loadPart', { collection: 'unit-col' }, { written: 7 });
    observeActivity('nonsense', null, undefined);
    const text = await metricsRegistry.metrics();
    expect(text).toContain('twinflow_documents_total{source="unit-src",source_type="web",outcome="fetched",reason=""} 5');
    expect(text).toContain('twinflow_documents_total{source="unit-src",source_type="web",outcome="failed",reason="http_404"} 1');
    expect(text).toContain('twinflow_documents_total{source="unit-src",source_type="",outcome="dropped",reason="too_short"} 1');
    expect(text).toContain('twinflow_vectors_written_total{collection="unit-col"} 7');
  });
});

describe('search attribute messages', () => {
  it('names the commands to register what is missing', () => {
    const text = describeMissing({ namespace: 'prod', available: [], registered: [], missing: [{ name: 'TwinflowSource', reason: 'not registered' }], error: 'registering them failed: permission denied' });
    expect(text).toContain('search attributes unavailable in namespace "prod": TwinflowSource (not registered) (registering them failed: permission denied)');
    expect(text).toContain('temporal operator search-attribute create --namespace prod --name TwinflowSource --type KeywordList');
    expect(registerCommands('prod', ['TwinflowModel']).at(-1)).toContain('tcld namespace search-attributes add --namespace prod --search-attribute "TwinflowModel=Keyword"');
    expect(describeMissing({ namespace: 'x', available: [], registered: [], missing: [] })).toBeUndefined();
  });
});

describe('activity summaries', () => {
  it('say what each step does, without credentials', () => {
    expect(activitySummary('crawlSource', [{ source: { type: 'git', id: 'repo', url: 'https://user:token@git.example/x.git' } }])).toBe('crawl git source "repo": https://***@git.example/x.git');
    expect(activitySummary('cleanPart', [{ sourceId: 'notes', partIndex: 0 }])).toBe('clean part 1 of source "notes"');
    expect(activitySummary('unknownThing', [])).toBe('unknownThing');
    expect(redactUrl('https://example.com/a@b')).toBe('https://example.com/a@b');
  });
});
