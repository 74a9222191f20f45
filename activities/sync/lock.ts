/**
 * One sync at a time per collection. Pull (the schedule), push (the debouncer) and a manual `twinflow sync` all read
 * the recorded state, load, and move the state forward; two of them interleaving could record a state that does not
 * match what ended up loaded. So each takes a lock first: an S3 object created only if absent (`If-None-Match: *`).
 *
 * The lock names the workflow run that holds it. A run that died without releasing it (terminated, timed out) is
 * detected by asking Temporal, and its lock is taken over atomically (`If-Match` on the lock's ETag). There is no
 * lease timer to tune: a live holder is waited for (the activity fails with SyncBusy and its retry policy backs off),
 * a dead one never blocks.
 *
 * Fencing: every acquisition draws the next number of `state/<c>/fence.json` (a conditional PUT, so two acquirers
 * never draw the same one) and the lock carries it. The commit of the recorded state (commitSyncState) checks that the
 * lock still holds its token and that the state was not committed by a later holder, then writes with `If-Match`: a
 * holder whose lock was taken over (a worker that lost contact and came back) cannot commit afterwards.
 */
import { GetObjectCommand, PutObjectCommand, S3ServiceException, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { fenceKey, syncLockKey } from '../../lib/schemas/sync';
import type { Deps } from '../deps';

export interface LockOwner {
  workflowId: string;
  runId: string;
}

interface LockRecord extends LockOwner {
  acquiredAt: string;
  /** The fencing token of this acquisition (absent in locks written before fencing). */
  token?: number;
}

export interface LockInput {
  collection: string;
  owner: LockOwner;
}

/** Whether a workflow run is still running (the lock holder's liveness). Replaceable in tests. */
export type RunLiveness = (owner: LockOwner) => Promise<boolean>;

export const temporalLiveness: RunLiveness = async ({ workflowId, runId }) => {
  try {
    const d = await Context.current().client.workflow.getHandle(workflowId, runId).describe();
    return d.status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false; // gone from retention: certainly not running
    throw err;
  }
};

function isPreconditionFailed(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 412 || err.name === 'PreconditionFailed');
}

function isMissing(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 404 || err.name === 'NoSuchKey');
}

export function createLockActivities({ artifacts }: Deps, liveness: RunLiveness = temporalLiveness) {
  const s3 = artifacts.s3;
  const Bucket = artifacts.bucket;

  async function read(Key: string): Promise<{ record: LockRecord; etag: string } | undefined> {
    try {
      const out = await s3.send(new GetObjectCommand({ Bucket, Key }));
      return { record: JSON.parse(await out.Body!.transformToString()) as LockRecord, etag: out.ETag! };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  const body = (owner: LockOwner, token: number) => JSON.stringify({ ...owner, token, acquiredAt: new Date().toISOString() } satisfies LockRecord);

  /** Draws the collection's next fencing token (compare-and-swap on fence.json; retried on a race). */
  async function nextToken(collection: string): Promise<number> {
    const Key = fenceKey(collection);
    for (let attempt = 0; attempt < 20; attempt++) {
      let current = 0;
      let etag: string | undefined;
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket, Key }));
        current = Number((JSON.parse(await out.Body!.transformToString()) as { token: number }).token) || 0;
        etag = out.ETag;
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
      const token = current + 1;
      try {
        await s3.send(
          new PutObjectCommand({ Bucket, Key, Body: JSON.stringify({ token }), ContentType: 'application/json', ...(etag ? { IfMatch: etag } : { IfNoneMatch: '*' }) }),
        );
        return token;
      } catch (err) {
        if (!isPreconditionFailed(err)) throw err;
      }
    }
    throw ApplicationFailure.retryable(`could not draw a fencing token for ${collection} (too many concurrent acquisitions)`, 'SyncBusy');
  }
  const same = (a: LockOwner, b: LockOwner) => a.workflowId === b.workflowId && a.runId === b.runId;

  return {
    /** Takes the collection's sync lock, or fails with a retryable SyncBusy while another live run holds it. */
    async acquireSyncLock({ collection, owner }: LockInput): Promise<{ takenOverFrom?: LockOwner; token: number }> {
      const Key = syncLockKey(collection);
      const held = await read(Key);
      // Our own, from an attempt whose reply was lost.
      if (held && same(held.record, owner) && held.record.token !== undefined) return { token: held.record.token };
      if (held && !same(held.record, owner) && (await liveness(held.record))) {
        throw ApplicationFailure.retryable(
          `collection ${collection} is being synced by ${held.record.workflowId} (run ${held.record.runId}); waiting for it to finish`,
          'SyncBusy',
        );
      }
      // Free, or held by a run that is no longer running: take it (atomically: only one acquirer's PUT succeeds).
      const token = await nextToken(collection);
      const condition = held ? { IfMatch: held.etag } : { IfNoneMatch: '*' };
      try {
        await s3.send(new PutObjectCommand({ Bucket, Key, Body: body(owner, token), ContentType: 'application/json', ...condition }));
      } catch (err) {
        if (isPreconditionFailed(err)) throw ApplicationFailure.retryable(`another run took the lock of ${collection} first; waiting`, 'SyncBusy');
        throw err;
      }
      return held && !same(held.record, owner) ? { takenOverFrom: { workflowId: held.record.workflowId, runId: held.record.runId }, token } : { token };
    },

    /**
     * Throws LockLost unless `owner` still holds the lock with `token`: called right before a commit, so a holder whose
     * lock was taken over does not move the recorded state. Returns nothing; the commit's own If-Match does the rest.
     */
    async assertLockHeld({ collection, owner, token }: LockInput & { token: number }): Promise<void> {
      const held = await read(syncLockKey(collection));
      if (!held || !same(held.record, owner) || held.record.token !== token) {
        const by = held ? `${held.record.workflowId} (run ${held.record.runId}, token ${held.record.token ?? '-'})` : 'nobody';
        throw ApplicationFailure.nonRetryable(`the lock of ${collection} is no longer this run's (token ${token}); it is held by ${by}: this run may not commit`, 'LockLost');
      }
    },

    /** Releases the lock if this run still holds it (a run whose lock was taken over must not release the new one). */
    async releaseSyncLock({ collection, owner }: LockInput): Promise<{ released: boolean }> {
      const Key = syncLockKey(collection);
      const held = await read(Key);
      if (!held || !same(held.record, owner)) return { released: false };
      await s3.send(new DeleteObjectCommand({ Bucket, Key }));
      return { released: true };
    },
  };
}
