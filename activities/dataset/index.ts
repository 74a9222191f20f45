/** CPU activities of the training pipeline's first step: build (or reuse) a versioned chat dataset. */
import { activityInfo, ApplicationFailure, heartbeat } from '@temporalio/activity';
import { ArtifactNotFoundError } from '../../lib/artifacts';
import { ApiKeyNotAllowedError, LlmError } from '../../lib/llm';
import { type DatasetManifest, type DatasetRef, datasetSpecSchema, type DatasetSpecInput } from '../../lib/schemas/train';
import { InputValidationError, parseInput } from '../../lib/schemas/validate';
import { TokenizerNotFoundError } from '../../lib/text/tokenizer';
import type { Deps } from '../deps';
import { buildDataset, DatasetInputError } from './build';
import { RecordsError } from './records';

export interface BuildDatasetInput {
  spec: DatasetSpecInput;
  /** Tokenizer for the length filter: a folder on this worker, a Hub id or an s3:// prefix. */
  tokenizer: string;
  maxSeqLength: number;
  chatTemplate?: string;
}

/** Input problems become non-retryable failures; everything else (S3, network, 5xx) is retried by Temporal. */
function toFailure(err: unknown): unknown {
  if (err instanceof InputValidationError || err instanceof DatasetInputError || err instanceof RecordsError || err instanceof TokenizerNotFoundError) {
    return ApplicationFailure.nonRetryable(err.message, err.name);
  }
  if (err instanceof ArtifactNotFoundError) return ApplicationFailure.nonRetryable(`source.uri: ${err.message}`, err.name);
  if (err instanceof LlmError && !err.retryable) return ApplicationFailure.nonRetryable(err.message, err.name);
  if (err instanceof ApiKeyNotAllowedError) return ApplicationFailure.nonRetryable(`source.teacher: ${err.message}`, err.name);
  return err;
}

export function createDatasetActivities({ config, artifacts }: Deps) {
  return {
    /** Builds the dataset and returns its URIs and counts (the examples stay in S3). */
    async buildDataset(input: BuildDatasetInput): Promise<DatasetRef> {
      try {
        const spec = parseInput(datasetSpecSchema, input.spec, 'dataset');
        const info = activityInfo();
        const { problems: _problems, ...ref } = await buildDataset({
          spec,
          tokenizer: input.tokenizer,
          maxSeqLength: input.maxSeqLength,
          chatTemplate: input.chatTemplate,
          artifacts,
          config,
          lineage: { workflowId: info.workflowExecution?.workflowId, runId: info.workflowExecution?.runId },
          heartbeat: (d) => heartbeat(d),
        });
        return ref;
      } catch (err) {
        throw toFailure(err);
      }
    },

    /** Reuses a dataset built earlier, from its manifest. */
    async loadDataset(input: { manifestUri: string }): Promise<DatasetRef> {
      try {
        const m = await artifacts.getJson<DatasetManifest>(input.manifestUri);
        const { spec: _spec, stats: _stats, lineage: _lineage, ...ref } = m;
        return ref;
      } catch (err) {
        if (err instanceof ArtifactNotFoundError) throw ApplicationFailure.nonRetryable(`dataset.manifestUri: ${err.message}`, err.name);
        throw err;
      }
    },

    /** Settings of the workers that the workflow cannot read itself (workflow code has no environment). */
    async trainRuntime(): Promise<{ gpuTaskQueue: string; hfHubUrl: string }> {
      return { gpuTaskQueue: config.temporal.gpuTaskQueue, hfHubUrl: config.hf.hubUrl };
    },
  };
}

export type DatasetActivities = ReturnType<typeof createDatasetActivities>;
