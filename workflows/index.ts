// The workflow bundle's entry: every workflow that the CPU worker runs. Deterministic code only.
export { stackCheck } from './diagnostics';
export { evalRetrieval } from './retrieval-eval';
export { evaluateModel } from './model-eval';
export { ingest, ingestSource } from './ingest';
export { sync, syncOnEvents } from './sync';
export { train } from './train';
