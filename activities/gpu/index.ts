/** Every activity of the GPU task queue: fine-tune, preference tuning (DPO) and batched generation, each running trainer/ as a subprocess. */
import type { Deps } from '../deps';
import { fineTune, type FineTuneInput, type PreferenceTuneResult } from './fine-tune';
import { type GenerateInput, generatePredictions } from './generate';
import { loadTrainerSettings, type TrainerSettings } from './settings';
import type { GpuHooks } from './shared';

export type { FineTuneInput, GenerateInput, GpuHooks, TrainerSettings };

export function createGpuActivities(deps: Deps, opts: { hooks?: GpuHooks; settings?: TrainerSettings } = {}) {
  const settings = opts.settings ?? loadTrainerSettings(deps.config);
  const ctx = { artifacts: deps.artifacts, settings, hooks: opts.hooks ?? {}, resources: deps.config.resources };
  return {
    async fineTune(input: FineTuneInput) {
      return fineTune(input, ctx);
    },
    /** DPO on the SFT adapter: fineTune's contract (heartbeat, checkpoints to S3, resume) with the trainer's `dpo`. */
    async preferenceTune(input: FineTuneInput & { dpo: NonNullable<FineTuneInput['dpo']> }): Promise<PreferenceTuneResult> {
      return (await fineTune(input, ctx)) as PreferenceTuneResult;
    },
    async generatePredictions(input: GenerateInput) {
      return generatePredictions(input, ctx);
    },
  };
}

export type GpuActivities = ReturnType<typeof createGpuActivities>;
