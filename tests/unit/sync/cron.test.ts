import { describe, expect, it } from 'vitest';
import { CronError, nextFirings, parseCron, shortestInterval } from '../../../lib/schedules/cron';

const H = 3_600_000;

describe('cron', () => {
  it('lists the next firings of a nightly schedule', () => {
    const times = nextFirings(parseCron('0 2 * * *'), new Date('2030-03-10T05:00:00Z'), 3);
    expect(times.map((t) => t.toISOString())).toEqual(['2030-03-11T02:00:00.000Z', '2030-03-12T02:00:00.000Z', '2030-03-13T02:00:00.000Z']);
  });

  it('finds the shortest interval of common expressions', () => {
    expect(shortestInterval('0 2 * * *')).toBe(24 * H);
    expect(shortestInterval('@daily')).toBe(24 * H);
    expect(shortestInterval('@hourly')).toBe(H);
    expect(shortestInterval('*/15 * * * *')).toBe(15 * 60_000);
    expect(shortestInterval('0 9,17 * * MON-FRI')).toBe(8 * H);
    expect(shortestInterval('30 3 * * 0')).toBe(7 * 24 * H);
    expect(shortestInterval('0 0 1 */3 *')).toBeGreaterThanOrEqual(89 * 24 * H);
  });

  it('fires on a day matching either day field when both are restricted (standard cron)', () => {
    // The 1st of the month or any Friday: in March 2030 the 1st is a Friday, then 8, 15, 22, 29 March, 1 April (Monday).
    const times = nextFirings(parseCron('0 0 1 * 5'), new Date('2030-02-28T12:00:00Z'), 6);
    expect(times.map((t) => t.toISOString().slice(0, 10))).toEqual(['2030-03-01', '2030-03-08', '2030-03-15', '2030-03-22', '2030-03-29', '2030-04-01']);
  });

  it('rejects malformed expressions with a message naming the field', () => {
    expect(() => parseCron('0 25 * * *')).toThrow(/hour: "25" is not in 0-23/);
    expect(() => parseCron('0 2 * *')).toThrow(/five fields/);
    expect(() => parseCron('@fortnightly')).toThrow(CronError);
    expect(() => parseCron('0 2 5-1 * *')).toThrow(/runs backwards/);
    expect(() => shortestInterval('0 0 31 2 *')).toThrow(/never fires/);
  });
});

describe('cron in a time zone', () => {
  const iso = (times: Date[]) => times.map((t) => t.toISOString());

  it('fires at the local time, and after the gap on the night the clocks go forward (Europe/Berlin, 31 March 2030)', () => {
    // 02:00 does not exist on 31 March: that run is at 03:00 CEST (01:00 UTC), the next one 23 hours later.
    const times = nextFirings(parseCron('0 2 * * *', 'Europe/Berlin'), new Date('2030-03-29T00:00:00Z'), 4);
    expect(iso(times)).toEqual(['2030-03-29T01:00:00.000Z', '2030-03-30T01:00:00.000Z', '2030-03-31T01:00:00.000Z', '2030-04-01T00:00:00.000Z']);
  });

  it('fires once in the hour that repeats when the clocks go back (Europe/Berlin, 27 October 2030)', () => {
    const times = nextFirings(parseCron('30 2 * * *', 'Europe/Berlin'), new Date('2030-10-25T12:00:00Z'), 3);
    expect(iso(times)).toEqual(['2030-10-26T00:30:00.000Z', '2030-10-27T00:30:00.000Z', '2030-10-28T01:30:00.000Z']);
  });

  it('finds the shortest interval in real time across daylight-saving changes', () => {
    expect(shortestInterval('0 2 * * *', { timeZone: 'Europe/Berlin' })).toBe(23 * H);
    expect(shortestInterval('0 2 * * *', { timeZone: 'UTC' })).toBe(24 * H);
    expect(shortestInterval('0 9 * * *', { timeZone: 'America/New_York' })).toBe(23 * H);
    // Lord Howe Island moves its clocks by half an hour.
    expect(shortestInterval('0 2 * * *', { timeZone: 'Australia/Lord_Howe' })).toBe(23.5 * H);
    // Every two hours runs at 02:00 CEST and again at 02:00 CET, an hour later; 2000 firings from January do not
    // reach October, so this needs the look at each clock change.
    expect(shortestInterval('0 */2 * * *', { timeZone: 'Europe/Berlin' })).toBe(H);
    expect(shortestInterval('0 */2 * * *', { timeZone: 'UTC' })).toBe(2 * H);
    expect(shortestInterval('*/15 * * * *', { timeZone: 'Europe/Berlin' })).toBe(15 * 60_000);
  });

  it('keeps the start date as a second argument, read in UTC', () => {
    expect(shortestInterval('0 2 * * *', new Date('2031-06-01T00:00:00Z'))).toBe(24 * H);
  });

  it('reads a value with a step as a range to the end of the field (standard cron)', () => {
    expect(iso(nextFirings(parseCron('5/20 * * * *'), new Date('2030-01-01T00:00:00Z'), 3))).toEqual(['2030-01-01T00:05:00.000Z', '2030-01-01T00:25:00.000Z', '2030-01-01T00:45:00.000Z']);
  });

  it('refuses an unknown time zone and the syntax Temporal cron strings do not share', () => {
    expect(() => parseCron('0 2 * * *', 'Mars/Olympus')).toThrow(CronError);
    expect(() => shortestInterval('0 2 * * *', { timeZone: 'Mars/Olympus' })).toThrow(/time zone "Mars\/Olympus" is not an IANA time zone/);
    expect(() => parseCron('0 0 L * *')).toThrow(/day of month: "L" is not in 1-31/);
    expect(() => parseCron('0 0 * * 5#2')).toThrow(/day of week: cannot read "5#2"/);
    expect(() => parseCron('0 0 * * +MON')).toThrow(/day of week: cannot read "\+MON"/);
  });
});
