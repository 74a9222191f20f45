/**
 * The state recorded by the last successful sync of a collection, in S3:
 *
 *   state/<collection>/current.json                        the pointer (SyncState): identity, physical collection, and
 *                                                          per source the URI of its state file; replaced in one PUT
 *   state/<collection>/runs/<workflowId>/<runId>/<src>.jsonl  one StateEntry per document (docId, contentHash, location)
 *   state/<collection>/intent.json                         docIds a sync is about to insert (see planSync)
 *
 * A sync writes its new state files before loading, and moves the pointer only after the load succeeded, so a sync
 * that fails halfway leaves the previous state in force and the next sync redoes the same work.
 */
import { GetObjectCommand, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/activity';
import { ArtifactNotFoundError, type ArtifactStore } from '../../lib/artifacts';
import { type SourceStateRef, type StateEntry, stateDir, statePointerKey, type SyncState, syncStateSchema } from '../../lib/schemas/sync';
import type { Deps } from '../deps';
import { beat } from './heartbeat';

export function stateRunPrefix(collection: string, workflowId: string, runId: string): string {
  return `${stateDir(collection)}/runs/${encodeURIComponent(workflowId)}/${runId}`;
}

export function stateFileKey(collection: string, workflowId: string, runId: string, sourceId: string): string {
  return `${stateRunPrefix(collection, workflowId, runId)}/${encodeURIComponent(sourceId)}.jsonl`;
}

export function intentKey(collection: string): string {
  return `${stateDir(collection)}/intent.json`;
}

/** The recorded state, or undefined before the first sync. A pointer that does not parse is an error, not "no state". */
export async function readState(artifacts: ArtifactStore, collection: string): Promise<SyncState | undefined> {
  const raw = await artifacts.getJsonIfExists<unknown>(statePointerKey(collection));
  if (raw === undefined) return undefined;
  const parsed = syncStateSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`the sync state ${artifacts.uri(statePointerKey(collection))} is not valid: ${parsed.error.message}`);
  return parsed.data;
}

export async function readEntries(artifacts: ArtifactStore, ref: SourceStateRef | undefined): Promise<StateEntry[]> {
  if (!ref) return [];
  try {
    return await artifacts.readAllJsonl<StateEntry>(ref.uri);
  } catch (err) {
    if (err instanceof ArtifactNotFoundError) throw new Error(`the sync state file ${ref.uri} is missing (the state pointer names it)`, { cause: err });
    throw err;
  }
}

/**
 * The state of a physical collection that has no recorded state of its own (built by `ingest`): one entry per
 * document found in the store, grouped by source. Lets the first sync over it delete what its sources no longer have.
 */
export async function stateFromStore(deps: Deps, physical: string, prefix: string): Promise<Record<string, SourceStateRef>> {
  const store = await deps.vectorStore();
  const bySource = new Map<string, { type: string; docs: Map<string, StateEntry> }>();
  let n = 0;
  for await (const p of store.scroll(physical)) {
    if (++n % 1000 === 0) beat();
    let s = bySource.get(p.payload.sourceId);
    if (!s) bySource.set(p.payload.sourceId, (s = { type: p.payload.sourceType, docs: new Map() }));
    if (!s.docs.has(p.payload.docId)) s.docs.set(p.payload.docId, { docId: p.payload.docId, contentHash: p.payload.contentHash, location: p.payload.location });
  }
  const out: Record<string, SourceStateRef> = {};
  for (const [sourceId, s] of bySource) {
    const ref = await deps.artifacts.putJsonl(`${prefix}/${encodeURIComponent(sourceId)}.jsonl`, s.docs.values());
    out[sourceId] = { uri: ref.uri, documents: ref.count, sourceType: s.type };
  }
  return out;
}

export async function writeState(artifacts: ArtifactStore, state: SyncState): Promise<string> {
  return (await artifacts.putJson(statePointerKey(state.collection), state)).uri;
}

/**
 * Writes the pointer under a fencing token: refused (LockLost) when a later lock holder already committed, and written
 * with If-Match on the pointer read here, so a commit that raced with a later one cannot overwrite it.
 */
export async function writeStateFenced(artifacts: ArtifactStore, state: SyncState & { fence: number }): Promise<string> {
  const Key = statePointerKey(state.collection);
  let etag: string | undefined;
  try {
    const out = await artifacts.s3.send(new GetObjectCommand({ Bucket: artifacts.bucket, Key }));
    const recorded = JSON.parse(await out.Body!.transformToString()) as { fence?: number };
    if (recorded.fence !== undefined && recorded.fence > state.fence) {
      throw ApplicationFailure.nonRetryable(
        `the sync state of ${state.collection} was committed under a later lock (token ${recorded.fence} > ${state.fence}): this run may not commit`,
        'LockLost',
      );
    }
    etag = out.ETag;
  } catch (err) {
    if (!(err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 404 || err.name === 'NoSuchKey'))) throw err;
  }
  try {
    await artifacts.s3.send(
      new PutObjectCommand({ Bucket: artifacts.bucket, Key, Body: JSON.stringify(state), ContentType: 'application/json', ...(etag ? { IfMatch: etag } : { IfNoneMatch: '*' }) }),
    );
  } catch (err) {
    if (err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 412 || err.name === 'PreconditionFailed')) {
      throw ApplicationFailure.nonRetryable(`the sync state of ${state.collection} changed while this run committed: another lock holder committed first`, 'LockLost');
    }
    throw err;
  }
  return artifacts.uri(Key);
}

/** Deletes state files that the pointer no longer names (the lock is held, so no other sync is writing any). */
export async function pruneStateFiles(artifacts: ArtifactStore, state: SyncState): Promise<number> {
  const keep = new Set(Object.values(state.sources).map((s) => artifacts.keyOf(s.uri)));
  const own = stateRunPrefix(state.collection, state.run.workflowId, state.run.runId);
  let deleted = 0;
  for await (const o of artifacts.list(`${stateDir(state.collection)}/runs/`)) {
    if (keep.has(o.key) || o.key.startsWith(`${own}/`)) continue;
    await artifacts.delete(o.key);
    deleted += 1;
  }
  return deleted;
}
