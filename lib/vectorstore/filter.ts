/**
 * Filters: validation shared by both stores, and translation to LanceDB's SQL predicates. Filters may come from an
 * LLM (self-query), so every field and value is checked at run time and every string reaches SQL only as an escaped
 * literal.
 */
import { type Condition, FILTER_FIELDS, type Filter, type FilterField } from './types';

export class FilterError extends Error {
  override name = 'FilterError';
}

/** publishedTs is the one numeric field; tags is a list of strings; the others are single strings. */
const NUMERIC_FIELDS = new Set<FilterField>(['publishedTs']);
export const LIST_FIELDS = new Set<FilterField>(['tags']);

function describeCondition(c: unknown): string {
  return JSON.stringify(c) ?? String(c);
}

/** Throws a FilterError naming the problem unless every condition is well formed for its field. */
export function validateFilter(filter: Filter | undefined): void {
  if (filter === undefined) return;
  if (filter === null || typeof filter !== 'object' || !Array.isArray(filter.must)) {
    throw new FilterError(`Invalid filter: expected { must: Condition[] }, got ${describeCondition(filter)}`);
  }
  for (const c of filter.must) validateCondition(c);
}

function validateCondition(c: Condition): void {
  const where = `filter condition ${describeCondition(c)}`;
  if (c === null || typeof c !== 'object') throw new FilterError(`Invalid ${where}: expected an object`);
  if (!(FILTER_FIELDS as readonly string[]).includes(c.field)) {
    throw new FilterError(`Invalid ${where}: unknown field "${String(c.field)}"; filterable fields are ${FILTER_FIELDS.join(', ')}`);
  }
  const kinds = (['eq', 'in', 'range'] as const).filter((k) => k in c);
  if (kinds.length !== 1) throw new FilterError(`Invalid ${where}: expected exactly one of eq, in, range`);
  const numeric = NUMERIC_FIELDS.has(c.field);
  const checkValue = (v: unknown) => {
    if (numeric ? typeof v !== 'number' || !Number.isFinite(v) : typeof v !== 'string') {
      throw new FilterError(`Invalid ${where}: field "${c.field}" takes ${numeric ? 'finite numbers' : 'strings'}, got ${describeCondition(v)}`);
    }
  };
  if ('eq' in c) checkValue(c.eq);
  else if ('in' in c) {
    if (!Array.isArray(c.in)) throw new FilterError(`Invalid ${where}: "in" takes an array`);
    c.in.forEach(checkValue);
  } else {
    if (!numeric) throw new FilterError(`Invalid ${where}: range applies only to ${[...NUMERIC_FIELDS].join(', ')}`);
    const { gte, lte } = c.range ?? {};
    if (gte === undefined && lte === undefined) throw new FilterError(`Invalid ${where}: range needs gte and/or lte`);
    if (gte !== undefined) checkValue(gte);
    if (lte !== undefined) checkValue(lte);
  }
}

/** True when some condition can match nothing (an empty "in" list): callers skip the query altogether. */
export function filterMatchesNothing(filter: Filter | undefined): boolean {
  return filter?.must.some((c) => 'in' in c && c.in.length === 0) ?? false;
}

/** A SQL string literal: single quotes doubled (DataFusion's SQL has no backslash escapes). */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A quoted column name (our columns are camelCase, which unquoted SQL identifiers would lower-case). */
export function sqlColumn(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new FilterError(`Invalid column name ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

function sqlValue(v: string | number | boolean): string {
  if (typeof v === 'string') return sqlString(v);
  if (typeof v === 'number') return String(v);
  return v ? 'TRUE' : 'FALSE';
}

/** The SQL predicate (LanceDB / DataFusion) for a filter, or undefined for no filter. Validates first. */
export function toLanceSql(filter: Filter | undefined): string | undefined {
  validateFilter(filter);
  if (!filter || filter.must.length === 0) return undefined;
  return filter.must.map(conditionToSql).join(' AND ');
}

function conditionToSql(c: Condition): string {
  const col = sqlColumn(c.field);
  const list = LIST_FIELDS.has(c.field);
  if ('eq' in c) return list ? `array_has(${col}, ${sqlValue(c.eq)})` : `${col} = ${sqlValue(c.eq)}`;
  if ('in' in c) {
    if (c.in.length === 0) return 'FALSE';
    const values = c.in.map(sqlValue).join(', ');
    return list ? `array_has_any(${col}, [${values}])` : `${col} IN (${values})`;
  }
  const parts: string[] = [];
  if (c.range.gte !== undefined) parts.push(`${col} >= ${sqlValue(c.range.gte)}`);
  if (c.range.lte !== undefined) parts.push(`${col} <= ${sqlValue(c.range.lte)}`);
  return `(${parts.join(' AND ')})`;
}

/** `col IN (...)` for ids, chunked by the caller to keep predicates short. */
export function sqlIn(column: string, values: readonly string[]): string {
  return `${sqlColumn(column)} IN (${values.map(sqlString).join(', ')})`;
}
