/** Every activity of the GPU task queue: fine-tune and batched generation, each running trainer/ as a subprocess. */
import type { Deps } from '../deps';
import { fineTune, type FineTuneInput } from './fine-tune';
import { type GenerateInput, generatePredictions } from './generate';
import { loadTrainerSettings, type TrainerSettings } from './settings';
import type { GpuHooks } from './shared';

export type { FineTuneInput, GenerateInput, GpuHooks, TrainerSettings };

export function createGpuActivities(deps: Deps, opts: { hooks?: GpuHooks; settings?: TrainerSettings } = {}) {
  const settings = opts.settings ?? loadTrainerSettings(deps.config);
  const ctx = { artifacts: deps.artifacts, settings, hooks: opts.hooks ?? {} };
  return {
    async fineTune(input: FineTuneInput) {
      return fineTune(input, ctx);
    },
    async generatePredictions(input: GenerateInput) {
      return generatePredictions(input, ctx);
    },
  };
}

export type GpuActivities = ReturnType<typeof createGpuActivities>;
