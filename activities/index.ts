/** Every activity of the CPU task queue, built from one set of dependencies. */
import type { Deps } from './deps';
import { createDatasetActivities } from './dataset';
import { createDiagnosticsActivities } from './diagnostics';
import { createEvaluateActivities } from './model-eval';
import { createRetrievalEvalActivities } from './retrieval-eval';
import { createIngestActivities } from './ingest';
import { createPublishActivities } from './publish';
import { createSyncActivities } from './sync';

export function createActivities(deps: Deps) {
  return {
    ...createDiagnosticsActivities(deps),
    ...createDatasetActivities(deps),
    ...createEvaluateActivities(deps),
    ...createPublishActivities(deps),
    ...createIngestActivities(deps),
    ...createSyncActivities(deps),
    ...createRetrievalEvalActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
