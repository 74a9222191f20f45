/**
 * The embedding model's own tokenizer (transformers.js `AutoTokenizer`), so chunk sizes are measured in the tokens
 * the model will actually see: a chunk that fits here is never truncated by the embedder.
 *
 * Lookup order: a folder given as `modelNameOrPath`; `<modelsDir>/<name>` (what scripts/fetch-models.sh creates,
 * default `loadConfig().embedding.modelsDir`); the Hugging Face Hub only when `allowRemote` is set. Instances are
 * cached per resolved location, so every chunking call shares one tokenizer per model.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AutoTokenizer, type PreTrainedTokenizer } from '@huggingface/transformers';
import { loadConfig } from '../config';
import type { Tokenizer } from '../embedding/types';

export interface LoadTokenizerOptions {
  /** Folder that holds one sub-folder per model (default: the configured embedding models folder). */
  modelsDir?: string;
  /** Download from the Hugging Face Hub when no local copy exists (default false: offline). */
  allowRemote?: boolean;
}

export class TokenizerNotFoundError extends Error {
  override name = 'TokenizerNotFoundError';
}

/**
 * transformers.js reports `model_max_length` as about 1e30 when a tokenizer config leaves it unset. Such values (and
 * anything non-positive) are replaced with the model's position-embedding size or, failing that, BERT's 512.
 */
const ABSURD_MAX_TOKENS = 1_000_000;
const FALLBACK_MAX_TOKENS = 512;

export class ModelTokenizer implements Tokenizer {
  constructor(
    private readonly inner: PreTrainedTokenizer,
    readonly maxTokens: number,
    /** Where it was loaded from: a folder path or a Hub id. */
    readonly source: string,
    /**
     * Whether counts add up over text cut at whitespace and around CJK ideographs (BERT-style WordPiece: see
     * lib/text/pack.ts). The chunker then sizes windows from cached word counts instead of re-tokenizing each one.
     */
    readonly additive: boolean = false,
  ) {}

  encode(text: string): number[] {
    return this.inner.encode(text, { add_special_tokens: false });
  }

  decode(ids: number[]): string {
    return this.inner.decode(ids, { skip_special_tokens: true });
  }

  count(text: string): number {
    return text === '' ? 0 : this.encode(text).length;
  }
}

function hasTokenizer(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'tokenizer.json')) && fs.existsSync(path.join(dir, 'tokenizer_config.json'));
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function sane(n: unknown): number | undefined {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 && n < ABSURD_MAX_TOKENS ? Math.floor(n) : undefined;
}

/**
 * BERT's pipeline (BertNormalizer with CJK padding, or none; BertPreTokenizer; WordPiece) tokenizes each
 * whitespace-separated word, and each CJK ideograph, on its own.
 */
function isWordPieceAdditive(tokenizerJson: Record<string, unknown> | undefined): boolean {
  if (!tokenizerJson) return false;
  const part = (key: string): Record<string, unknown> | null => (tokenizerJson[key] ?? null) as Record<string, unknown> | null;
  const normalizer = part('normalizer');
  const normalizerOk = normalizer === null || (normalizer.type === 'BertNormalizer' && normalizer.handle_chinese_chars !== false);
  return normalizerOk && part('pre_tokenizer')?.type === 'BertPreTokenizer' && part('model')?.type === 'WordPiece';
}

/**
 * The model's window: sentence-transformers' own max_seq_length where the folder records it (all-MiniLM-L6-v2 was
 * trained on 256 tokens, while its tokenizer says 512), else the tokenizer's, else the position embeddings'. The
 * embedder reads the same files (lib/embedding/local.ts), so a chunk that fits here is never truncated there.
 */
function maxTokensOf(inner: PreTrainedTokenizer, localDir: string | undefined): number {
  const fromConfig = localDir ? readJson(path.join(localDir, 'config.json')) : undefined;
  const window = sane(inner.model_max_length) ?? sane(fromConfig?.max_position_embeddings) ?? FALLBACK_MAX_TOKENS;
  const trained = localDir ? sane(readJson(path.join(localDir, 'sentence_bert_config.json'))?.max_seq_length) : undefined;
  return trained !== undefined ? Math.min(trained, window) : window;
}

/** Where a model's tokenizer lives: a local folder, or a Hub id to download (only with allowRemote). */
function resolveLocation(modelNameOrPath: string, opts: LoadTokenizerOptions): { local?: string; hubId?: string; tried: string[] } {
  const tried: string[] = [];
  const direct = path.resolve(modelNameOrPath);
  if (path.isAbsolute(modelNameOrPath) || modelNameOrPath.startsWith('.')) {
    tried.push(direct);
    if (hasTokenizer(direct)) return { local: direct, tried };
  }
  const modelsDir = path.resolve(opts.modelsDir ?? loadConfig().embedding.modelsDir);
  const inModelsDir = path.join(modelsDir, modelNameOrPath);
  tried.push(inModelsDir);
  if (hasTokenizer(inModelsDir)) return { local: inModelsDir, tried };
  // A Hub id is "name" or "owner/name"; paths were handled above.
  if (opts.allowRemote && /^[\w.-]+(\/[\w.-]+)?$/.test(modelNameOrPath)) return { hubId: modelNameOrPath, tried };
  return { tried };
}

const cache = new Map<string, Promise<ModelTokenizer>>();

export async function loadTokenizer(modelNameOrPath: string, opts: LoadTokenizerOptions = {}): Promise<ModelTokenizer> {
  if (modelNameOrPath.trim() === '') throw new TokenizerNotFoundError('loadTokenizer: the model name or path is empty');
  const where = resolveLocation(modelNameOrPath, opts);
  const key = where.local ?? (where.hubId ? `hub:${where.hubId}` : undefined);
  if (!key) {
    throw new TokenizerNotFoundError(
      `no tokenizer for "${modelNameOrPath}": no tokenizer.json + tokenizer_config.json in ${where.tried.join(' or ')}` +
        (opts.allowRemote ? '' : ' (run scripts/fetch-models.sh, or pass allowRemote to download it from the Hugging Face Hub)'),
    );
  }
  let pending = cache.get(key);
  if (!pending) {
    pending = (async () => {
      const inner = where.local
        ? // An absolute folder path is read as a path (not a Hub id), and local_files_only keeps it offline.
          await AutoTokenizer.from_pretrained(where.local, { local_files_only: true })
        : await AutoTokenizer.from_pretrained(where.hubId!);
      // Only a local folder's tokenizer.json is inspected; a Hub tokenizer is measured window by window instead.
      const additive = where.local ? isWordPieceAdditive(readJson(path.join(where.local, 'tokenizer.json'))) : false;
      return new ModelTokenizer(inner, maxTokensOf(inner, where.local), where.local ?? where.hubId!, additive);
    })();
    cache.set(key, pending);
    // A failed load is not cached: the next call tries again (the files may have been fetched meanwhile).
    pending.catch(() => cache.delete(key));
  }
  return pending;
}
