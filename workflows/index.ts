// The workflow bundle's entry: every workflow that the CPU worker runs. Deterministic code only.
export { stackCheck } from './diagnostics';
export { ingest, ingestSource } from './ingest';
export { sync, syncOnEvents } from './sync';
export { train } from './train';
