/**
 * Histories as JSON files: plain protobuf objects (camelCase fields, enum names, int64 as strings, bytes as base64),
 * the shape `temporal workflow show --output json` writes too.
 *
 * Converted with @temporalio/proto's own message classes rather than @temporalio/common's proto-utils, whose
 * converter breaks when npm installs two copies of protobufjs (it does here: "type must be a Type").
 */
import proto, { type temporal } from '@temporalio/proto';

// A default import: the package is CommonJS; under plain Node ESM this is the reflection root, under vitest the
// static module. Both have History.fromObject/toObject, which is all this file uses.
const History = proto.temporal.api.history.v1.History;

export function historyFromJson(json: unknown): temporal.api.history.v1.History {
  return History.fromObject(json as Record<string, unknown>);
}

export function historyToJson(history: temporal.api.history.v1.IHistory): string {
  const message = History.fromObject(history as Record<string, unknown>);
  return JSON.stringify(History.toObject(message, { longs: String, enums: String, bytes: String, defaults: false }));
}
