/**
 * Where the local embedding model runs: the CPU, or an NVIDIA GPU through ONNX Runtime's CUDA execution provider.
 *
 * onnxruntime-node ships the CPU runtime in its npm package; the CUDA provider is a separate download (its install
 * script fetches it from NuGet, which many sites cannot reach). `make gpu-embed` (scripts/install-ort-cuda.sh) takes
 * the same provider, of the same ONNX Runtime version, from the `onnxruntime-gpu` wheel on PyPI, with the CUDA and
 * cuDNN libraries it needs, and scripts/env.sh puts those libraries on LD_LIBRARY_PATH.
 *
 * `auto` (the default) uses the GPU only when all three are there: a GPU (the NVIDIA driver's device files), the
 * provider next to onnxruntime-node's runtime, and the CUDA libraries on the library path. Otherwise it runs on the
 * CPU and says why, once. `cuda` asked for explicitly fails with what is missing instead of falling back silently.
 *
 * The device is not part of the model identity: fp32 on CUDA and on the CPU give the same vectors to float rounding
 * (cosine ≥ 0.9999), so a collection embedded on one is searched with the other. A dtype change (fp16 on a GPU) does
 * change the identity (local.ts).
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export type EmbeddingDevice = 'cpu' | 'cuda';
export type EmbeddingDeviceSetting = EmbeddingDevice | 'auto';

export interface DeviceProbe {
  /** The NVIDIA driver's device files exist (/dev/nvidiactl). */
  gpu: boolean;
  /** libonnxruntime_providers_cuda.so sits next to onnxruntime-node's libonnxruntime.so. */
  provider: boolean;
  /** Which of the CUDA libraries the provider links (CUDA runtime, cuBLAS, cuRAND) are on LD_LIBRARY_PATH. */
  cudaLibraries: string[];
}

export interface DeviceChoice {
  device: EmbeddingDevice;
  /** Why this device: shown in the worker's log and the benchmark's record. */
  reason: string;
  /** Chosen by `auto`: if the CUDA provider then fails to load, the model thread falls back to the CPU. */
  fallback: boolean;
}

export class EmbeddingDeviceError extends Error {
  override name = 'EmbeddingDeviceError';
}

/**
 * The CUDA libraries ONNX Runtime's CUDA provider links (readelf -d), by soname without the major version: the
 * provider of ONNX Runtime 1.30 on PyPI links CUDA 13, the NuGet one CUDA 12. The driver's libcuda.so.1 is the system's.
 */
const CUDA_LIBRARIES = ['libcudart.so', 'libcublasLt.so', 'libcublas.so', 'libcurand.so'];

const FIX = 'run `make gpu-embed` (scripts/install-ort-cuda.sh), then start the worker from a shell that sourced scripts/env.sh';

/** The folder holding onnxruntime-node's native runtime for this platform. */
export function onnxRuntimeBinFolder(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const pkg = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const base = path.join(pkg, 'bin');
    for (const napi of readdirSync(base)) {
      const folder = path.join(base, napi, process.platform, process.arch);
      if (existsSync(path.join(folder, 'onnxruntime_binding.node'))) return folder;
    }
  } catch {
    // onnxruntime-node not installed: no provider either
  }
  return undefined;
}

/** What this machine has, read from the file system and the environment (no GPU call: that needs the provider). */
export function probeDevice(env: NodeJS.ProcessEnv = process.env): DeviceProbe {
  const bin = onnxRuntimeBinFolder();
  const dirs = (env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  const has = (dir: string, lib: string) => {
    try {
      return readdirSync(dir).some((f) => f.startsWith(`${lib}.`));
    } catch {
      return false;
    }
  };
  const found = CUDA_LIBRARIES.filter((lib) => dirs.some((d) => has(d, lib)));
  return {
    gpu: process.platform === 'linux' && existsSync('/dev/nvidiactl'),
    provider: bin !== undefined && existsSync(path.join(bin, 'libonnxruntime_providers_cuda.so')),
    cudaLibraries: found,
  };
}

/** The device for a setting on a machine; throws when `cuda` is asked for and cannot work here. */
export function chooseDevice(setting: EmbeddingDeviceSetting, probe: DeviceProbe): DeviceChoice {
  if (setting === 'cpu') return { device: 'cpu', reason: 'EMBEDDING_DEVICE=cpu', fallback: false };
  const missing: string[] = [];
  if (!probe.gpu) missing.push('no NVIDIA GPU (no /dev/nvidiactl)');
  if (!probe.provider) missing.push("no CUDA provider next to onnxruntime-node's runtime (libonnxruntime_providers_cuda.so)");
  const libs = CUDA_LIBRARIES.filter((lib) => !probe.cudaLibraries.includes(lib));
  if (libs.length > 0) missing.push(`CUDA libraries not on LD_LIBRARY_PATH: ${libs.join(', ')}`);
  if (missing.length === 0) {
    return { device: 'cuda', reason: setting === 'cuda' ? 'EMBEDDING_DEVICE=cuda' : 'a GPU and the CUDA provider are present', fallback: setting === 'auto' };
  }
  if (setting === 'cuda') throw new EmbeddingDeviceError(`EMBEDDING_DEVICE=cuda, but ${missing.join('; ')}: ${FIX}`);
  return { device: 'cpu', reason: probe.gpu ? `a GPU is present, but ${missing.join('; ')}: ${FIX}` : 'no GPU', fallback: false };
}
