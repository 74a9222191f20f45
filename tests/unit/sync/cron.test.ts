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
