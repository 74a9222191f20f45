import { describe, expect, it } from 'vitest';
import { formatDuration, resolveSchedule } from '../../../client/schedules';
import { isPhysicalCollectionOf, physicalCollectionName, syncInputSchema } from '../../../lib/schemas/sync';

const sync = { collection: 'notes', sources: [{ type: 'folder' as const, id: 'f', path: '/tmp/x' }] };

describe('schedule config', () => {
  it('defaults to nightly at 02:00 UTC, skip on overlap, with a run timeout under the interval', () => {
    const r = resolveSchedule({ sync });
    expect(r.id).toBe('sync-notes');
    expect(r.params).toMatchObject({ cron: '0 2 * * *', timeZone: 'UTC', catchupWindow: '6h', jitter: '0s' });
    expect(r.shortestIntervalMs).toBe(24 * 3_600_000);
    expect(r.executionTimeoutMs).toBe(21.6 * 3_600_000); // 90% of a day
  });

  it('measures the interval in the schedule\'s time zone: a nightly run in Paris is 23 hours from the next on the spring change', () => {
    const r = resolveSchedule({ sync, cron: '30 3 * * *', timeZone: 'Europe/Paris' });
    expect(r.shortestIntervalMs).toBe(23 * 3_600_000);
    expect(r.executionTimeoutMs).toBe(20.7 * 3_600_000); // 90% of the short day, not of 24 h
    expect(() => resolveSchedule({ sync, cron: '30 3 * * *', timeZone: 'Europe/Paris', executionTimeout: '23h' })).toThrow(/not shorter than the shortest interval of "30 3 \* \* \*" \(23h\)/);
    expect(() => resolveSchedule({ sync, cron: '0 2 * *', timeZone: 'Mars/Olympus' })).toThrow(/timeZone: "Mars\/Olympus" is not an IANA time zone/);
  });

  it('derives the timeout from a shorter interval and rejects one that is not shorter', () => {
    expect(resolveSchedule({ sync, cron: '*/10 * * * *' }).executionTimeoutMs).toBe(9 * 60_000);
    expect(() => resolveSchedule({ sync, cron: '@hourly', executionTimeout: '2h' })).toThrow(/executionTimeout: 2h is not shorter than the shortest interval of "@hourly" \(1h\)/);
    expect(() => resolveSchedule({ sync, cron: '@hourly', jitter: '90m' })).toThrow(/jitter/);
  });

  it('names the bad field: cron, time zone, duration, sync input', () => {
    expect(() => resolveSchedule({ sync, cron: '0 2 * *' })).toThrow(/cron: expected five fields/);
    expect(() => resolveSchedule({ sync, timeZone: 'Mars/Olympus' })).toThrow(/timeZone: "Mars\/Olympus" is not an IANA time zone/);
    expect(() => resolveSchedule({ sync, catchupWindow: 'soon' })).toThrow(/catchupWindow: expected a duration/);
    expect(() => resolveSchedule({ sync: { collection: 'notes', sources: [] } })).toThrow(/sync.sources: at least one source/);
  });
});

describe('formatDuration', () => {
  it('writes durations for people (days, hours, minutes...)', () => {
    expect(formatDuration(77_760_000)).toBe('21h36m');
    expect(formatDuration(86_400_000)).toBe('1d');
    expect(formatDuration(7_200_000)).toBe('2h');
    expect(formatDuration(1500)).toBe('1s500ms');
    expect(formatDuration(0)).toBe('0s');
  });
});

describe('sync input', () => {
  it('accepts keys only for s3 sources that it lists', () => {
    const sources = [
      { type: 's3' as const, id: 'inbox', prefix: 'inbox/' },
      { type: 'folder' as const, id: 'f', path: '/tmp/x' },
    ];
    expect(syncInputSchema.safeParse({ sources, only: [{ sourceId: 'inbox', keys: ['inbox/a.md'] }] }).success).toBe(true);
    const unknown = syncInputSchema.safeParse({ sources, only: [{ sourceId: 'nope' }] });
    expect(unknown.error?.issues[0]?.message).toBe('no source with id "nope" in sources');
    const notS3 = syncInputSchema.safeParse({ sources, only: [{ sourceId: 'f', keys: ['a'] }] });
    expect(notS3.error?.issues[0]?.message).toMatch(/keys apply to s3 sources only/);
  });
});

describe('physical collection names', () => {
  it('put the identity hash after the user-facing name, and recognise their own', () => {
    const name = physicalCollectionName('notes', 'abcdef0123456789');
    expect(name).toBe('notes__abcdef0123');
    expect(isPhysicalCollectionOf('notes', name)).toBe(true);
    expect(isPhysicalCollectionOf('notes', 'notes__parents')).toBe(false);
    expect(isPhysicalCollectionOf('note', name)).toBe(false);
    expect(() => physicalCollectionName('notes', 'xyz')).toThrow(/not an identity hash/);
  });
});
