/**
 * Publication dates as ISO 8601 (UTC), whatever format a page or feed wrote them in (ISO, RFC 822, ...), so that
 * later steps can filter on them. A date-time without a time zone is read as UTC, not as the worker's local time,
 * so the result does not depend on the machine.
 */
export function toIsoDate(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  let s = String(value).trim();
  if (!s) return undefined;
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s)) s = `${s.replace(' ', 'T')}Z`;
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) return undefined;
  const year = new Date(ms).getUTCFullYear();
  return year >= 1900 && year <= 2200 ? new Date(ms).toISOString() : undefined;
}
