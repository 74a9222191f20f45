import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config';
import { chooseDevice, EmbeddingDeviceError, onnxRuntimeBinFolder, probeDevice, type DeviceProbe } from '../../../lib/embedding/device';
import { LocalEmbedder } from '../../../lib/embedding/local';

const everything: DeviceProbe = { gpu: true, provider: true, cudaLibraries: ['libcudart.so', 'libcublasLt.so', 'libcublas.so', 'libcurand.so'] };

describe('choosing the embedding device', () => {
  it('auto uses the GPU only when the GPU, the CUDA provider and its libraries are all there', () => {
    expect(chooseDevice('auto', everything)).toMatchObject({ device: 'cuda', fallback: true });
    expect(chooseDevice('auto', { ...everything, gpu: false })).toEqual({ device: 'cpu', reason: 'no GPU', fallback: false });
    const noProvider = chooseDevice('auto', { ...everything, provider: false });
    expect(noProvider.device).toBe('cpu');
    expect(noProvider.reason).toMatch(/a GPU is present, but no CUDA provider .*make gpu-embed/);
    const noLibs = chooseDevice('auto', { ...everything, cudaLibraries: ['libcudart.so'] });
    expect(noLibs.reason).toMatch(/CUDA libraries not on LD_LIBRARY_PATH: libcublasLt.so, libcublas.so, libcurand.so/);
  });

  it('cpu is the CPU whatever the machine has; cuda fails with what is missing instead of falling back', () => {
    expect(chooseDevice('cpu', everything).device).toBe('cpu');
    expect(chooseDevice('cuda', everything)).toMatchObject({ device: 'cuda', fallback: false });
    expect(() => chooseDevice('cuda', { gpu: false, provider: false, cudaLibraries: [] })).toThrow(EmbeddingDeviceError);
    expect(() => chooseDevice('cuda', { gpu: false, provider: false, cudaLibraries: [] })).toThrow(
      /EMBEDDING_DEVICE=cuda, but no NVIDIA GPU .*; no CUDA provider .*; CUDA libraries not on LD_LIBRARY_PATH: .*run `make gpu-embed`/,
    );
  });

  it('the probe finds CUDA libraries of any major version on LD_LIBRARY_PATH, and the runtime folder of onnxruntime-node', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cuda-libs-'));
    for (const f of ['libcudart.so.13', 'libcublas.so.13.1.0.3']) writeFileSync(path.join(dir, f), '');
    const probe = probeDevice({ LD_LIBRARY_PATH: `/nonexistent:${dir}` });
    expect(probe.cudaLibraries.sort()).toEqual(['libcublas.so', 'libcudart.so']);
    expect(probeDevice({}).cudaLibraries).toEqual([]);
    expect(onnxRuntimeBinFolder()).toMatch(/onnxruntime-node\/bin\/napi-v\d+\/linux\/x64$/);
  });

  it('the local embedder reports where it runs, and refuses cuda on a machine that cannot', async () => {
    const { modelsDir, model } = loadConfig().embedding;
    const probe = probeDevice();
    const embedder = await LocalEmbedder.create({ model, modelsDir, allowRemote: false, device: 'auto' });
    expect(embedder.device).toBe(chooseDevice('auto', probe).device);
    expect(embedder.modelId).not.toMatch(/cuda|cpu/); // the device is not part of the identity
    if (chooseDevice('auto', probe).device === 'cpu') {
      await expect(LocalEmbedder.create({ model, modelsDir, allowRemote: false, device: 'cuda' })).rejects.toThrow(/EMBEDDING_DEVICE=cuda, but/);
    }
  });
});
