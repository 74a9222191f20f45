/** Every activity of the GPU task queue (fine-tune, batched generation). */
import type { Deps } from '../deps';

export function createGpuActivities(_deps: Deps) {
  return {};
}

export type GpuActivities = ReturnType<typeof createGpuActivities>;
