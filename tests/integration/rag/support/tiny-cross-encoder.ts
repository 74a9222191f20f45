/**
 * Builds a tiny cross-encoder for re-ranking tests: a BERT-shaped sequence-classification model folder (config.json,
 * the MiniLM WordPiece tokenizer, onnx/model.onnx) that transformers.js loads like ms-marco-MiniLM-L-6-v2, but whose
 * ONNX graph is written here by hand so its preferences are known exactly:
 *
 *   logit = 10 · (weighted share of the query's content tokens that also occur in the passage) − 5
 *
 * Stopwords and punctuation weigh 0, so a passage containing all of the query's content words scores +5 and one with
 * none scores −5, whatever their vector similarity. Built in milliseconds and cached under .twinflow/test-models.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../../../lib/config';
import { DataType, encodeModel, type GraphSpec } from './onnx-proto';

export const TEST_MODELS_DIR = path.join(PROJECT_ROOT, '.twinflow', 'test-models');
const MINILM_DIR = path.join(PROJECT_ROOT, '.twinflow', 'models', 'all-MiniLM-L6-v2');
/** Bump when the graph changes, so a stale cached model is rebuilt. */
const VERSION = 'v1';

const STOPWORDS = (
  'a an the and or but if of to in on at by for with from as is are was were be been being it its this that these those ' +
  'what which who whom whose when where why how do does did has have had i you he she we they me him her us them my your ' +
  'our their not no so than then there here about into over under can could would should will may might must all any some'
).split(' ');

/** Per-token weight: 0 for special tokens, punctuation and stopwords, 1 for everything else. */
function tokenWeights(vocab: string[]): number[] {
  const stop = new Set(STOPWORDS);
  return vocab.map((tok, id) => {
    if (id <= 103 || tok.startsWith('[')) return 0;
    if (stop.has(tok)) return 0;
    if (!/[\p{L}\p{N}]/u.test(tok)) return 0;
    return 1;
  });
}

function graph(weights: number[]): GraphSpec {
  const f = DataType.FLOAT;
  const i64 = DataType.INT64;
  const dyn = ['batch', 'sequence'];
  return {
    name: 'lexical_overlap_cross_encoder',
    opset: 17,
    inputs: [
      { name: 'input_ids', elemType: i64, shape: dyn },
      { name: 'attention_mask', elemType: i64, shape: dyn },
      { name: 'token_type_ids', elemType: i64, shape: dyn },
    ],
    outputs: [{ name: 'logits', elemType: f, shape: ['batch', 1] }],
    initializers: [
      { name: 'weights', dims: [weights.length], dataType: f, values: weights },
      { name: 'last_special', dims: [], dataType: i64, values: [103] },
      { name: 'one', dims: [], dataType: f, values: [1] },
      { name: 'eps', dims: [], dataType: f, values: [1e-6] },
      { name: 'scale', dims: [], dataType: f, values: [10] },
      { name: 'shift', dims: [], dataType: f, values: [5] },
      { name: 'axis1', dims: [1], dataType: i64, values: [1] },
      { name: 'axis2', dims: [1], dataType: i64, values: [2] },
    ],
    nodes: [
      // Real tokens of each segment: query = segment 0, passage = segment 1 (the tokenizer's token_type_ids).
      { op: 'Greater', inputs: ['input_ids', 'last_special'], outputs: ['is_token'] },
      { op: 'Cast', inputs: ['is_token'], outputs: ['token_f'], attrs: { to: f } },
      { op: 'Cast', inputs: ['attention_mask'], outputs: ['mask_f'], attrs: { to: f } },
      { op: 'Cast', inputs: ['token_type_ids'], outputs: ['segment_f'], attrs: { to: f } },
      { op: 'Mul', inputs: ['token_f', 'mask_f'], outputs: ['valid'] },
      { op: 'Mul', inputs: ['valid', 'segment_f'], outputs: ['passage'] },
      { op: 'Sub', inputs: ['one', 'segment_f'], outputs: ['not_segment'] },
      { op: 'Mul', inputs: ['valid', 'not_segment'], outputs: ['query'] },
      { op: 'Gather', inputs: ['weights', 'input_ids'], outputs: ['w'], attrs: { axis: 0 } },
      { op: 'Mul', inputs: ['query', 'w'], outputs: ['query_w'] },
      // same[b,i,j] = token i equals token j; count[b,i] = occurrences of query token i in the passage.
      { op: 'Unsqueeze', inputs: ['input_ids', 'axis2'], outputs: ['ids_col'] },
      { op: 'Unsqueeze', inputs: ['input_ids', 'axis1'], outputs: ['ids_row'] },
      { op: 'Equal', inputs: ['ids_col', 'ids_row'], outputs: ['same'] },
      { op: 'Cast', inputs: ['same'], outputs: ['same_f'], attrs: { to: f } },
      { op: 'Unsqueeze', inputs: ['passage', 'axis2'], outputs: ['passage_col'] },
      { op: 'MatMul', inputs: ['same_f', 'passage_col'], outputs: ['count3'] },
      { op: 'Min', inputs: ['count3', 'one'], outputs: ['found3'] },
      { op: 'Squeeze', inputs: ['found3', 'axis2'], outputs: ['found'] },
      { op: 'Mul', inputs: ['found', 'query_w'], outputs: ['matched'] },
      { op: 'ReduceSum', inputs: ['matched', 'axis1'], outputs: ['num'], attrs: { keepdims: 1 } },
      { op: 'ReduceSum', inputs: ['query_w', 'axis1'], outputs: ['den0'], attrs: { keepdims: 1 } },
      { op: 'Add', inputs: ['den0', 'eps'], outputs: ['den'] },
      { op: 'Div', inputs: ['num', 'den'], outputs: ['share'] },
      { op: 'Mul', inputs: ['share', 'scale'], outputs: ['scaled'] },
      { op: 'Sub', inputs: ['scaled', 'shift'], outputs: ['logits'] },
    ],
  };
}

/** Returns the model folder, building it once. `name` is the folder name under .twinflow/test-models. */
export function ensureTinyCrossEncoder(name = 'tiny-cross-encoder'): string {
  const dir = path.join(TEST_MODELS_DIR, name);
  const stamp = path.join(dir, `.built-${VERSION}`);
  if (fs.existsSync(stamp)) return dir;
  const tmp = `${dir}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(path.join(tmp, 'onnx'), { recursive: true });
  for (const file of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt']) {
    fs.copyFileSync(path.join(MINILM_DIR, file), path.join(tmp, file));
  }
  const vocab = fs.readFileSync(path.join(MINILM_DIR, 'vocab.txt'), 'utf8').split('\n');
  if (vocab.at(-1) === '') vocab.pop();
  const config = {
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    vocab_size: vocab.length,
    hidden_size: 4,
    num_hidden_layers: 1,
    num_attention_heads: 1,
    max_position_embeddings: 512,
    type_vocab_size: 2,
    pad_token_id: 0,
    id2label: { '0': 'LABEL_0' },
    label2id: { LABEL_0: 0 },
  };
  fs.writeFileSync(path.join(tmp, 'config.json'), JSON.stringify(config, null, 2));
  fs.writeFileSync(path.join(tmp, 'onnx', 'model.onnx'), encodeModel(graph(tokenWeights(vocab))));
  fs.writeFileSync(path.join(tmp, `.built-${VERSION}`), '');
  // Another test process may have built it meanwhile: keep theirs (identical) and drop ours.
  if (fs.existsSync(stamp)) {
    fs.rmSync(tmp, { recursive: true, force: true });
    return dir;
  }
  fs.rmSync(dir, { recursive: true, force: true }); // a stale version
  try {
    fs.renameSync(tmp, dir);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}
