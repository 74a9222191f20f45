/**
 * A minimal ONNX ModelProto writer (protobuf wire format by hand), so tests can build a small, fully known model
 * graph without Python or any download. Only the messages and fields the test models use are covered; field numbers
 * follow onnx/onnx.proto3.
 */

type Bytes = Uint8Array;

function varint(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number((v & 0x7fn) | 0x80n));
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

function concat(parts: Bytes[]): Bytes {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A message is the concatenation of its encoded fields. */
const message = (...fields: Bytes[]): Bytes => concat(fields);
const intField = (field: number, value: number | bigint): Bytes => Uint8Array.from([...varint((field << 3) | 0), ...varint(value)]);
const bytesField = (field: number, value: Bytes): Bytes => concat([Uint8Array.from([...varint((field << 3) | 2), ...varint(value.length)]), value]);
const strField = (field: number, value: string): Bytes => bytesField(field, new TextEncoder().encode(value));

export const DataType = { FLOAT: 1, INT64: 7, BOOL: 9 } as const;
const AttrType = { INT: 2 } as const;

export interface TensorInit {
  name: string;
  dims: number[];
  dataType: (typeof DataType)['FLOAT'] | (typeof DataType)['INT64'];
  values: number[];
}

function tensor(t: TensorInit): Bytes {
  const raw =
    t.dataType === DataType.FLOAT
      ? new Uint8Array(Float32Array.from(t.values).buffer)
      : new Uint8Array(BigInt64Array.from(t.values.map((v) => BigInt(v))).buffer);
  return message(...t.dims.map((d) => intField(1, d)), intField(2, t.dataType), strField(8, t.name), bytesField(9, raw));
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Integer attributes only (all the test graphs need). */
  attrs?: Record<string, number>;
}

function node(n: NodeSpec, index: number): Bytes {
  const attrs = Object.entries(n.attrs ?? {}).map(([name, i]) => bytesField(5, message(strField(1, name), intField(3, i), intField(20, AttrType.INT))));
  return message(...n.inputs.map((i) => strField(1, i)), ...n.outputs.map((o) => strField(2, o)), strField(3, `${n.op}_${index}`), strField(4, n.op), ...attrs);
}

export interface ValueSpec {
  name: string;
  elemType: number;
  /** A number is a fixed size, a string a symbolic (dynamic) dimension. */
  shape: Array<number | string>;
}

function valueInfo(v: ValueSpec): Bytes {
  const dims = v.shape.map((d) => bytesField(1, typeof d === 'number' ? intField(1, d) : strField(2, d)));
  const tensorType = message(intField(1, v.elemType), bytesField(2, message(...dims)));
  return message(strField(1, v.name), bytesField(2, bytesField(1, tensorType)));
}

export interface GraphSpec {
  name: string;
  nodes: NodeSpec[];
  initializers: TensorInit[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  opset: number;
}

/** Serialises a whole model (IR version 8) to the bytes of a .onnx file. */
export function encodeModel(g: GraphSpec): Bytes {
  const graph = message(
    ...g.nodes.map((n, i) => bytesField(1, node(n, i))),
    strField(2, g.name),
    ...g.initializers.map((t) => bytesField(5, tensor(t))),
    ...g.inputs.map((v) => bytesField(11, valueInfo(v))),
    ...g.outputs.map((v) => bytesField(12, valueInfo(v))),
  );
  return message(intField(1, 8), strField(2, 'twinflow-tests'), bytesField(7, graph), bytesField(8, message(strField(1, ''), intField(2, g.opset))));
}
