import { proxyActivities } from '@temporalio/workflow';
import type { DiagnosticsActivities } from '../activities/diagnostics';
import { type StackCheckInput, stackCheckInputSchema } from '../lib/schemas/diagnostics';
import { validateWorkflowInput } from './validation';

const { probeArtifactStore } = proxyActivities<DiagnosticsActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 5 },
});

/** Checks the deployment end to end: workflow → worker → activity → S3 write → S3 read. */
export async function stackCheck(input: StackCheckInput = {}) {
  const { message } = validateWorkflowInput(stackCheckInputSchema, input, 'stackCheck');
  return probeArtifactStore({ message });
}
