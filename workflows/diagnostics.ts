import type { DiagnosticsActivities } from '../activities/diagnostics';
import { type StackCheckInput, stackCheckInputSchema } from '../lib/schemas/diagnostics';
import { PROBE_ACTIVITY } from './policies';
import { validateWorkflowInput } from './validation';
import { proxySummarizedActivities, startVisibility } from './visibility';

const { probeArtifactStore } = proxySummarizedActivities<DiagnosticsActivities>(PROBE_ACTIVITY);

/** Checks the deployment end to end: workflow → worker → activity → S3 write → S3 read. */
export async function stackCheck(input: StackCheckInput = {}) {
  const { message } = validateWorkflowInput(stackCheckInputSchema, input, 'stackCheck');
  await startVisibility({ tags: { TwinflowPipeline: ['stackCheck'] }, memo: { summary: 'stack check: workflow → worker → activity → S3 write → S3 read' }, details: 'stack check' });
  return probeArtifactStore({ message });
}
