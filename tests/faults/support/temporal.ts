/**
 * Temporal-side helpers of the fault suite: a client on the fault stack, the pending activities of a run (what is
 * in flight, on which worker), the activity attempts recorded in its history, and `presumeDead`, which tells the
 * server that a killed worker's in-flight activity attempts failed (see docs/reliability.md, "Heartbeat timeout").
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { faultConfig } from '../../harness/fault-stack';
import type { WorkerProcess } from '../../harness/fault-worker';

export async function connectClient(): Promise<{ client: Client; close: () => Promise<void> }> {
  const config = faultConfig();
  const connection = await Connection.connect({ address: config.temporal.address });
  return { client: new Client({ connection, namespace: config.temporal.namespace }), close: () => connection.close() };
}

/** temporal.api.enums.v1.PendingActivityState */
const PENDING_STATE = { 1: 'scheduled', 2: 'started', 3: 'cancel_requested', 4: 'paused', 5: 'pause_requested' } as Record<number, string>;

export interface Pending {
  workflowId: string;
  runId: string;
  activityId: string;
  type: string;
  state: string;
  attempt: number;
  worker: string;
  /** The raw heartbeat details the server holds (what a retried attempt gets). */
  heartbeatPayloads: unknown;
  heartbeat: unknown;
}

export async function pendingActivities(client: Client, workflowId: string): Promise<Pending[]> {
  let desc;
  try {
    desc = await client.workflow.getHandle(workflowId).describe();
  } catch {
    return []; // a child that does not exist yet
  }
  return (desc.raw.pendingActivities ?? []).map((p) => {
    const payloads = p.heartbeatDetails?.payloads ?? [];
    let heartbeat: unknown;
    try {
      heartbeat = payloads.length > 0 ? defaultPayloadConverter.fromPayload(payloads[0]!) : undefined;
    } catch {
      heartbeat = undefined;
    }
    return {
      workflowId,
      runId: desc.runId,
      activityId: p.activityId ?? '',
      type: p.activityType?.name ?? '',
      state: PENDING_STATE[Number(p.state)] ?? String(p.state),
      attempt: p.attempt ?? 1,
      worker: p.lastWorkerIdentity ?? '',
      heartbeatPayloads: p.heartbeatDetails ?? undefined,
      heartbeat,
    };
  });
}

/** Waits until `check` returns a value (polling every `everyMs`). */
export async function waitUntil<T>(what: string | (() => string), check: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${typeof what === 'function' ? what() : what}`);
    await sleep(everyMs);
  }
}

/**
 * The worker died with these activity attempts in flight. Temporal would retry each once its heartbeat timeout
 * (2 minutes in the ingest and sync workflows) expires; a supervisor that saw the process die can say so at once:
 * RespondActivityTaskFailedById with a retryable failure, keeping the heartbeat details the server holds, so the
 * retry is scheduled by the activity's own retry policy (the same path a heartbeat timeout takes) and resumes from
 * the same checkpoint. Returns the attempts it failed.
 */
export async function presumeDead(client: Client, workflowIds: string[], dead: WorkerProcess): Promise<Pending[]> {
  const failed: Pending[] = [];
  for (const id of workflowIds) {
    for (const p of await pendingActivities(client, id)) {
      if (p.state !== 'started' || !p.worker.startsWith(dead.identityPrefix)) continue;
      await client.workflowService.respondActivityTaskFailedById({
        namespace: client.options.namespace,
        workflowId: p.workflowId,
        runId: p.runId,
        activityId: p.activityId,
        identity: 'twinflow-fault-suite',
        failure: {
          message: `worker process ${dead.pid} was killed (SIGKILL) while running this attempt`,
          source: 'twinflow-fault-suite',
          applicationFailureInfo: { type: 'WorkerProcessKilled', nonRetryable: false },
        },
        lastHeartbeatDetails: (p.heartbeatPayloads as never) ?? undefined,
      });
      failed.push(p);
    }
  }
  return failed;
}

export interface ActivityRun {
  workflowId: string;
  activityId: string;
  type: string;
  /** The attempt that completed (1 = first try). */
  attempt: number;
  /** The failure of the attempt before it, if any. */
  lastFailure?: string;
  outcome: 'completed' | 'failed' | 'timedOut' | 'canceled';
}

/** Every activity that ended in a workflow's history: which attempt ended it and why the one before failed. */
export async function activityRuns(client: Client, workflowId: string, runId?: string): Promise<ActivityRun[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const scheduled = new Map<string, { activityId: string; type: string }>();
  const started = new Map<string, { attempt: number; lastFailure?: string }>();
  const out: ActivityRun[] = [];
  for (const e of history.events ?? []) {
    const id = String(e.eventId);
    if (e.activityTaskScheduledEventAttributes) {
      const a = e.activityTaskScheduledEventAttributes;
      scheduled.set(id, { activityId: a.activityId ?? '', type: a.activityType?.name ?? '' });
    }
    if (e.activityTaskStartedEventAttributes) {
      const a = e.activityTaskStartedEventAttributes;
      started.set(String(a.scheduledEventId), { attempt: a.attempt ?? 1, lastFailure: a.lastFailure?.message ?? undefined });
    }
    const end =
      (e.activityTaskCompletedEventAttributes && (['completed', e.activityTaskCompletedEventAttributes] as const)) ||
      (e.activityTaskFailedEventAttributes && (['failed', e.activityTaskFailedEventAttributes] as const)) ||
      (e.activityTaskTimedOutEventAttributes && (['timedOut', e.activityTaskTimedOutEventAttributes] as const)) ||
      (e.activityTaskCanceledEventAttributes && (['canceled', e.activityTaskCanceledEventAttributes] as const));
    if (end) {
      const key = String(end[1].scheduledEventId);
      const s = scheduled.get(key);
      const st = started.get(key);
      out.push({ workflowId, activityId: s?.activityId ?? '?', type: s?.type ?? '?', attempt: st?.attempt ?? 1, lastFailure: st?.lastFailure, outcome: end[0] });
    }
  }
  return out;
}

/** Whether the run continued as new (it must not: the same run finishes the work). */
export async function continuedAsNew(client: Client, workflowId: string, runId: string): Promise<boolean> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return (history.events ?? []).some((e) => !!e.workflowExecutionContinuedAsNewEventAttributes);
}
