/** Every activity of the CPU task queue, built from one set of dependencies. */
import type { Deps } from './deps';
import { createDiagnosticsActivities } from './diagnostics';
import { createIngestActivities } from './ingest';

export function createActivities(deps: Deps) {
  return {
    ...createDiagnosticsActivities(deps),
    ...createIngestActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
