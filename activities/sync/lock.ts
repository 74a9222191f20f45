/**
 * One sync at a time per collection. Pull (the schedule), push (the debouncer) and a manual `twinflow sync` all read
 * the recorded state, load, and move the state forward; two of them interleaving could record a state that does not
 * match what ended up loaded. So each takes a lock first: an S3 object created only if absent (`If-None-Match: *`).
 *
 * The lock names the workflow run that holds it. A run that died without releasing it (terminated, timed out) is
 * detected by asking Temporal, and its lock is taken over atomically (`If-Match` on the lock's ETag). There is no
 * lease timer to tune: a live holder is waited for (the activity fails with SyncBusy and its retry policy backs off),
 * a dead one never blocks.
 */
import { GetObjectCommand, PutObjectCommand, S3ServiceException, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { syncLockKey } from '../../lib/schemas/sync';
import type { Deps } from '../deps';

export interface LockOwner {
  workflowId: string;
  runId: string;
}

interface LockRecord extends LockOwner {
  acquiredAt: string;
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

  const body = (owner: LockOwner) => JSON.stringify({ ...owner, acquiredAt: new Date().toISOString() } satisfies LockRecord);
  const same = (a: LockOwner, b: LockOwner) => a.workflowId === b.workflowId && a.runId === b.runId;

  return {
    /** Takes the collection's sync lock, or fails with a retryable SyncBusy while another live run holds it. */
    async acquireSyncLock({ collection, owner }: LockInput): Promise<{ takenOverFrom?: LockOwner }> {
      const Key = syncLockKey(collection);
      try {
        await s3.send(new PutObjectCommand({ Bucket, Key, Body: body(owner), ContentType: 'application/json', IfNoneMatch: '*' }));
        return {};
      } catch (err) {
        if (!isPreconditionFailed(err)) throw err;
      }
      const held = await read(Key);
      if (!held) throw ApplicationFailure.retryable(`the sync lock of ${collection} was released meanwhile; trying again`, 'SyncBusy');
      if (same(held.record, owner)) return {}; // our own, from an attempt whose reply was lost
      if (await liveness(held.record)) {
        throw ApplicationFailure.retryable(
          `collection ${collection} is being synced by ${held.record.workflowId} (run ${held.record.runId}); waiting for it to finish`,
          'SyncBusy',
        );
      }
      try {
        await s3.send(new PutObjectCommand({ Bucket, Key, Body: body(owner), ContentType: 'application/json', IfMatch: held.etag }));
      } catch (err) {
        if (isPreconditionFailed(err)) throw ApplicationFailure.retryable(`another sync of ${collection} took the lock first`, 'SyncBusy');
        throw err;
      }
      return { takenOverFrom: { workflowId: held.record.workflowId, runId: held.record.runId } };
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
