/**
 * The dependencies that activities are built from. Heavy ones (the embedding model, the vector store) are created
 * lazily and once per worker process, so a worker that never embeds never loads a model.
 */
import { ArtifactStore } from '../lib/artifacts';
import { type Config, loadConfig } from '../lib/config';

export interface Deps {
  config: Config;
  artifacts: ArtifactStore;
}

export function createDeps(config: Config = loadConfig()): Deps {
  return { config, artifacts: ArtifactStore.fromConfig(config) };
}

/** Memoises an async factory: the first call creates, later calls share the same promise. */
export function lazy<T>(factory: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= factory().catch((err) => {
      value = undefined; // let a later call retry a failed initialisation
      throw err;
    });
    return value;
  };
}
