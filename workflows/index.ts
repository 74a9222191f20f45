// The workflow bundle's entry: every workflow that the CPU worker runs. Deterministic code only.
export { stackCheck } from './diagnostics';
export { evalRetrieval } from './eval';
export { evaluateModel } from './evaluate-model';
export { ingest, ingestSource } from './ingest';
export { sync, syncOnEvents } from './sync';
export { train } from './train';
