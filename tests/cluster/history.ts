/**
 * What the rehearsal reads back from Temporal: every run of a workflow tree (the run and its children, through
 * their ChildWorkflowExecutionStarted events), which worker identity started each activity attempt, and the size
 * of each history (events and payload bytes).
 */
import type { Client, WorkflowHandle } from '@temporalio/client';

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

export interface RunRef {
  workflowId: string;
  runId?: string;
}

export interface TreeStats {
  runs: number;
  children: number;
  continuedAsNew: number;
  events: number;
  payloadBytes: number;
  /** Activity type → worker identity → attempts started. */
  attemptsByWorker: Record<string, Record<string, number>>;
}

function payloadBytes(value: unknown): number {
  // Payload.data (bytes) anywhere in an event: walk the decoded event object.
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v instanceof Uint8Array) total += v.byteLength;
    else if (Array.isArray(v)) stack.push(...v);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) stack.push(x);
  }
  return total;
}

/** Walks a workflow and every child (and every continued-as-new run of each). */
export async function treeStats(client: Client, root: RunRef): Promise<TreeStats> {
  const stats: TreeStats = { runs: 0, children: 0, continuedAsNew: 0, events: 0, payloadBytes: 0, attemptsByWorker: {} };
  const queue: RunRef[] = [root];
  while (queue.length > 0) {
    const ref = queue.shift()!;
    const history = await client.workflow.getHandle(ref.workflowId, ref.runId).fetchHistory();
    stats.runs += 1;
    const scheduled = new Map<string, string>();
    for (const e of (history.events ?? []) as HistoryEvent[]) {
      stats.events += 1;
      stats.payloadBytes += payloadBytes(e);
      if (e.activityTaskScheduledEventAttributes) scheduled.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
      if (e.activityTaskStartedEventAttributes) {
        const a = e.activityTaskStartedEventAttributes;
        const type = scheduled.get(String(a.scheduledEventId)) ?? '?';
        const byWorker = (stats.attemptsByWorker[type] ??= {});
        const id = a.identity ?? '?';
        byWorker[id] = (byWorker[id] ?? 0) + 1;
      }
      if (e.childWorkflowExecutionStartedEventAttributes) {
        const c = e.childWorkflowExecutionStartedEventAttributes.workflowExecution;
        stats.children += 1;
        if (c?.workflowId) queue.push({ workflowId: c.workflowId, runId: c.runId ?? undefined });
      }
      if (e.workflowExecutionContinuedAsNewEventAttributes) {
        stats.continuedAsNew += 1;
        const next = e.workflowExecutionContinuedAsNewEventAttributes.newExecutionRunId;
        if (next) queue.push({ workflowId: ref.workflowId, runId: next });
      }
    }
  }
  return stats;
}
