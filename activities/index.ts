/** Every activity of the CPU task queue, built from one set of dependencies. */
import type { Deps } from './deps';
import { createDiagnosticsActivities } from './diagnostics';

export function createActivities(deps: Deps) {
  return {
    ...createDiagnosticsActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
