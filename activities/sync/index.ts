/**
 * The activities of change data capture. The crawl, clean, manifest, chunk, embed and load steps are the feature
 * pipeline's own (activities/ingest): pull and push syncs run exactly those, plus the ones here: lock, resolve the
 * index, plan (diff), delete, commit the state. Publishing (the alias switch) is the load step's publishCollection,
 * which ingest uses too.
 */
import type { ChunkingOptions } from '../../lib/schemas/ingest';
import type { SourceStateRef, SyncState } from '../../lib/schemas/sync';
import type { Deps } from '../deps';
import { elapsedSince } from '../parts';
import { type IdentityWithHash, resolveCollection } from './collection';
import { createLockActivities, type RunLiveness, temporalLiveness } from './lock';
import { createPlanActivities } from './plan';
import { intentKey, pruneStateFiles, readState, stateFromStore, stateRunPrefix, writeState, writeStateFenced } from './state';

export interface ResolveIndexOutput {
  physical: string;
  /** What the alias points to now. */
  live?: string;
  identity: IdentityWithHash;
  /** The physical collection is not (yet) the one search sees: build it completely, then publish. */
  rebuild: boolean;
  previous: Record<string, SourceStateRef>;
  /** Where `previous` came from. */
  previousFrom: 'state' | 'store' | 'none';
  /** A half-built physical collection of an unfinished rebuild was dropped to start clean. */
  discardedPartial: boolean;
}

export interface CommitInput {
  collection: string;
  physical: string;
  identity: IdentityWithHash;
  owner: { workflowId: string; runId: string };
  states: Record<string, SourceStateRef>;
  /** The lock's fencing token (absent only in runs started before fencing). */
  token?: number;
}

export function createSyncActivities(deps: Deps, opts: { liveness?: RunLiveness } = {}) {
  const { artifacts } = deps;
  const locks = createLockActivities(deps, opts.liveness ?? temporalLiveness);
  return {
    ...locks,
    ...createPlanActivities(deps),

    /**
     * Which physical collection this sync loads into, and the state to diff against:
     * - the recorded state, when it was made for this very physical collection and identity;
     * - the store's own content, when the physical collection is live but has no recorded state (built by ingest);
     * - nothing, for a new physical collection. A leftover one that is not live and has no state (a rebuild that died
     *   halfway) is dropped first: its content is unknown, and the embedding cache makes rebuilding it cheap.
     */
    async resolveIndex({ collection, chunking, runKey }: { collection: string; chunking: ChunkingOptions; runKey: string }): Promise<ResolveIndexOutput> {
      const store = await deps.vectorStore();
      let resolved = await resolveCollection(deps, collection, chunking);
      const state = await readState(artifacts, collection);
      const stateMatches = state !== undefined && state.physical === resolved.physical && state.identity.hash === resolved.identity.hash;
      let previous: Record<string, SourceStateRef> = {};
      let previousFrom: ResolveIndexOutput['previousFrom'] = 'none';
      let discardedPartial = false;
      if (resolved.existed && stateMatches) {
        previous = state.sources;
        previousFrom = 'state';
      } else if (resolved.existed && resolved.live === resolved.physical) {
        previous = await stateFromStore(deps, resolved.physical, `${runKey}/sync/state-from-store`);
        previousFrom = 'store';
      } else if (resolved.existed) {
        await store.dropCollection(resolved.physical);
        resolved = await resolveCollection(deps, collection, chunking);
        discardedPartial = true;
      }
      return {
        physical: resolved.physical,
        live: resolved.live,
        identity: resolved.identity,
        rebuild: resolved.live !== resolved.physical,
        previous,
        previousFrom,
        discardedPartial,
      };
    },

    /** Moves the recorded state forward (one PUT of the pointer): called only after every load and delete succeeded. */
    async commitSyncState(input: CommitInput) {
      const started = performance.now();
      const { hash, model, dimension, chunking } = input.identity;
      const state: SyncState = {
        version: 1,
        collection: input.collection,
        physical: input.physical,
        identity: { hash, model, dimension, chunking },
        run: input.owner,
        sources: input.states,
      };
      let uri: string;
      if (input.token === undefined) {
        uri = await writeState(artifacts, state);
      } else {
        await locks.assertLockHeld({ collection: input.collection, owner: input.owner, token: input.token });
        uri = await writeStateFenced(artifacts, { ...state, fence: input.token });
      }
      await artifacts.delete(intentKey(input.collection));
      const pruned = await pruneStateFiles(artifacts, state);
      return { uri, pruned, runPrefix: stateRunPrefix(input.collection, input.owner.workflowId, input.owner.runId), elapsedMs: elapsedSince(started) };
    },
  };
}

export type SyncActivities = ReturnType<typeof createSyncActivities>;
