/**
 * twinflow's search attributes on whatever Temporal server a worker talks to.
 *
 * A server rejects a workflow task that upserts a search attribute it does not know (BadSearchAttributes): the task
 * fails and is retried for ever, and no try/catch in workflow code can see it, because the rejection comes from the
 * server after the code ran. So a workflow must know, before it upserts, which attributes exist. The CPU worker finds
 * out once at start:
 *
 *   1. OperatorService.listSearchAttributes for the namespace;
 *   2. missing ones are registered with addSearchAttributes where the server allows it (the dev server, a
 *      self-hosted cluster with operator rights); TWINFLOW_REGISTER_SEARCH_ATTRIBUTES=false only checks;
 *   3. what is still missing (Temporal Cloud, no rights, a name registered with another type) is logged once, with
 *      the commands that register it, and the worker runs without it.
 *
 * Workflow code asks its worker through a local activity (`twinflowSearchAttributes`, added to every worker that
 * runs workflows) which returns the names that are registered. The answer is recorded in the run's history (a
 * local-activity marker), so a replay on any worker makes the same decision, and runs that were stuck on
 * BadSearchAttributes under older code take the new path on their next workflow task (see workflows/visibility.ts).
 */
import type { NativeConnection } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../infra/stack';

export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;
type SearchAttributeType = (typeof SEARCH_ATTRIBUTES)[SearchAttributeName];

/** temporal.api.enums.v1.IndexedValueType. */
const INDEXED_VALUE_TYPE: Record<SearchAttributeType, number> = { Keyword: 2, KeywordList: 7 };
const TYPE_NAMES: Record<number, string> = { 1: 'Text', 2: 'Keyword', 3: 'Int', 4: 'Double', 5: 'Bool', 6: 'Datetime', 7: 'KeywordList' };

export interface SearchAttributeCheck {
  namespace: string;
  /** Registered with the type twinflow uses: workflows upsert these. */
  available: SearchAttributeName[];
  /** Registered by this check. */
  registered: SearchAttributeName[];
  /** Not usable (absent, or registered with another type): workflows leave these out. */
  missing: Array<{ name: SearchAttributeName; reason: string }>;
  /** Why the missing ones could not be registered (or listed), when that is known. */
  error?: string;
}

export interface CheckOptions {
  namespace: string;
  /** Register the missing ones (default true). */
  register?: boolean;
  /** Told once about what is missing (default console.warn). */
  warn?: (message: string) => void;
  /** Told once about what this check registered (default console.log). */
  info?: (message: string) => void;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

/** The commands that register every missing attribute (the dev server, a self-hosted cluster, Temporal Cloud). */
export function registerCommands(namespace: string, names: readonly SearchAttributeName[]): string[] {
  const sa = names.map((n) => ({ name: n, type: SEARCH_ATTRIBUTES[n] }));
  return [
    ...sa.map((a) => `temporal operator search-attribute create --namespace ${namespace} --name ${a.name} --type ${a.type}`),
    `tcld namespace search-attributes add --namespace ${namespace} ${sa.map((a) => `--search-attribute "${a.name}=${a.type}"`).join(' ')}   # Temporal Cloud`,
  ];
}

async function listCustom(connection: NativeConnection, namespace: string): Promise<Record<string, number>> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const res = await connection.operatorService.listSearchAttributes({ namespace });
      return Object.fromEntries(Object.entries(res.customAttributes ?? {}).map(([k, v]) => [k, Number(v)]));
    } catch (err) {
      lastErr = err;
      // UNAVAILABLE (14) is worth another try; anything else (permission, unimplemented) is an answer.
      if ((err as { code?: number }).code !== 14) break;
      await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
    }
  }
  // Servers that do not offer the operator API to this caller may still list them through the workflow service.
  try {
    const res = await connection.workflowService.getSearchAttributes({});
    return Object.fromEntries(Object.entries(res.keys ?? {}).map(([k, v]) => [k, Number(v)]));
  } catch {
    throw lastErr;
  }
}

/** Lists, registers where allowed, and reports twinflow's search attributes in one namespace. */
export async function checkSearchAttributes(connection: NativeConnection, o: CheckOptions): Promise<SearchAttributeCheck> {
  const names = Object.keys(SEARCH_ATTRIBUTES) as SearchAttributeName[];
  const namespace = o.namespace;
  let existing: Record<string, number>;
  try {
    existing = await listCustom(connection, namespace);
  } catch (err) {
    return { namespace, available: [], registered: [], missing: names.map((name) => ({ name, reason: 'could not be listed' })), error: `listing search attributes failed: ${message(err)}` };
  }
  const wrongType = names.filter((n) => existing[n] !== undefined && existing[n] !== INDEXED_VALUE_TYPE[SEARCH_ATTRIBUTES[n]]);
  let absent = names.filter((n) => existing[n] === undefined);
  const registered: SearchAttributeName[] = [];
  let error: string | undefined;
  if (absent.length > 0 && o.register !== false) {
    try {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(absent.map((n) => [n, INDEXED_VALUE_TYPE[SEARCH_ATTRIBUTES[n]]])),
      });
      // Believe the server, not the call: list again (another worker may have raced us to it, which is fine too).
      const after = await listCustom(connection, namespace);
      registered.push(...absent.filter((n) => after[n] === INDEXED_VALUE_TYPE[SEARCH_ATTRIBUTES[n]]));
      absent = absent.filter((n) => !registered.includes(n));
    } catch (err) {
      error = `registering them failed: ${message(err)}`;
      // Workers starting together: one registers, the others get "already exists"; list again to see.
      try {
        const after = await listCustom(connection, namespace);
        const now = absent.filter((n) => after[n] === INDEXED_VALUE_TYPE[SEARCH_ATTRIBUTES[n]]);
        if (now.length > 0) {
          registered.push(...now);
          absent = absent.filter((n) => !now.includes(n));
          if (absent.length === 0) error = undefined;
        }
      } catch {
        /* keep the first error */
      }
    }
  } else if (absent.length > 0) {
    error = 'registration is off: TWINFLOW_REGISTER_SEARCH_ATTRIBUTES=false';
  }
  const missing = [
    ...absent.map((name) => ({ name, reason: 'not registered' })),
    ...wrongType.map((name) => ({ name, reason: `registered as ${TYPE_NAMES[existing[name]!] ?? existing[name]}, twinflow needs ${SEARCH_ATTRIBUTES[name]}` })),
  ];
  const unusable = new Set(missing.map((m) => m.name));
  return { namespace, available: names.filter((n) => !unusable.has(n)), registered, missing, error };
}

/** One line (plus the commands) saying what runs will not be tagged with, or undefined when nothing is missing. */
export function describeMissing(check: SearchAttributeCheck): string | undefined {
  if (check.missing.length === 0) return undefined;
  const list = check.missing.map((m) => `${m.name} (${m.reason})`).join(', ');
  const toRegister = check.missing.filter((m) => m.reason === 'not registered' || m.reason === 'could not be listed').map((m) => m.name);
  const conflicting = check.missing.filter((m) => !toRegister.includes(m.name)).map((m) => m.name);
  const how = [
    ...(toRegister.length > 0 ? [`register them, then restart the workers:\n  ${registerCommands(check.namespace, toRegister).join('\n  ')}`] : []),
    ...(conflicting.length > 0 ? [`${conflicting.join(', ')} must be removed or renamed in that namespace`] : []),
  ].join('; ');
  return (
    `twinflow: search attributes unavailable in namespace "${check.namespace}": ${list}${check.error ? ` (${check.error})` : ''}. ` +
    `Workflows run without them (their runs are not tagged with them in the Web UI). To have them, ${how}`
  );
}

const checks = new Map<string, Promise<SearchAttributeCheck>>();

/**
 * The check for one server and namespace, done once per process (every worker of the process shares it) and logged
 * once. Never throws: a failed check means "none available", which is always safe for workflows.
 */
export function ensureSearchAttributes(connection: NativeConnection, address: string, o: CheckOptions): Promise<SearchAttributeCheck> {
  const key = `${address}/${o.namespace}`;
  let check = checks.get(key);
  if (!check) {
    check = checkSearchAttributes(connection, o).then((c) => {
      const warn = o.warn ?? ((m: string) => console.warn(m));
      const missing = describeMissing(c);
      if (missing) warn(missing);
      else if (c.registered.length > 0) (o.info ?? ((m: string) => console.log(m)))(`twinflow: registered search attributes ${c.registered.join(', ')} in namespace "${c.namespace}"`);
      return c;
    });
    checks.set(key, check);
  }
  return check;
}

/** The local activity that workflow code asks (through workflows/visibility.ts). */
export interface VisibilityActivities {
  twinflowSearchAttributes(): Promise<string[]>;
}

export function createVisibilityActivities(check: SearchAttributeCheck | undefined): VisibilityActivities {
  return {
    async twinflowSearchAttributes() {
      return check ? [...check.available] : [];
    },
  };
}

/** TWINFLOW_REGISTER_SEARCH_ATTRIBUTES: true (default) or false. */
export function registrationEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env.TWINFLOW_REGISTER_SEARCH_ATTRIBUTES ?? '').trim().toLowerCase();
  if (v === '' || ['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  throw new Error(`twinflow: Invalid configuration: TWINFLOW_REGISTER_SEARCH_ATTRIBUTES: expected true or false, got "${env.TWINFLOW_REGISTER_SEARCH_ATTRIBUTES}"`);
}
