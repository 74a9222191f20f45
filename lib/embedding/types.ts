/** Embedders turn chunk texts into vectors; tokenizers count and split text in the embedding model's own tokens. */

export interface Tokenizer {
  /** Token ids without special tokens. */
  encode(text: string): number[];
  decode(ids: number[]): string;
  count(text: string): number;
  /** Maximum tokens the model takes in one input (including special tokens). */
  readonly maxTokens: number;
}

export interface Embedder {
  /** Identity of the model + settings; the embedding cache and rebuild detection key on it. */
  readonly modelId: string;
  readonly dimension: number;
  /** Embeds documents (chunks). Vectors are L2-normalised. */
  embed(texts: string[]): Promise<number[][]>;
  /** Embeds a search query (some models prefix queries differently from documents). */
  embedQuery(text: string): Promise<number[]>;
  close?(): Promise<void>;
}
