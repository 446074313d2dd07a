// The ONNX protobuf schema, as a protobufjs JSON descriptor, for decoding a model's structure.
//
// Owns: message and field numbers of onnx.proto (package `onnx`, IR version 10/11 era: functions,
// overloads, metadata_props, sparse tensors, optional and sparse tensor types), written out here from
// the ONNX specification rather than copied, with field names kept in the schema's snake_case. Enum
// fields are plain int32: unknown enum values from newer ONNX versions must decode, not fail.
// Must never: be used to encode a user's model (a decoder drops fields it does not know; mgit only ever
// splices bytes), or decode tensor payloads: callers hand it a model whose large payloads were cut out
// (src/onnx/skeleton.ts).

import protobuf from 'protobufjs/light.js';

type FieldDef = { type: string; id: number; rule?: 'repeated' };
type MessageDef = { fields: Record<string, FieldDef>; nested?: Record<string, MessageDef> };

const f = (type: string, id: number): FieldDef => ({ type, id });
const r = (type: string, id: number): FieldDef => ({ type, id, rule: 'repeated' });

const MESSAGES: Record<string, MessageDef> = {
  ModelProto: {
    fields: {
      ir_version: f('int64', 1),
      producer_name: f('string', 2),
      producer_version: f('string', 3),
      domain: f('string', 4),
      model_version: f('int64', 5),
      doc_string: f('string', 6),
      graph: f('GraphProto', 7),
      opset_import: r('OperatorSetIdProto', 8),
      metadata_props: r('StringStringEntryProto', 14),
      training_info: r('TrainingInfoProto', 20),
      functions: r('FunctionProto', 25),
      global_mutable_initializer_name: r('string', 30),
    },
  },
  OperatorSetIdProto: { fields: { domain: f('string', 1), version: f('int64', 2) } },
  StringStringEntryProto: { fields: { key: f('string', 1), value: f('string', 2) } },
  GraphProto: {
    fields: {
      node: r('NodeProto', 1),
      name: f('string', 2),
      initializer: r('TensorProto', 5),
      doc_string: f('string', 10),
      input: r('ValueInfoProto', 11),
      output: r('ValueInfoProto', 12),
      value_info: r('ValueInfoProto', 13),
      quantization_annotation: r('TensorAnnotation', 14),
      sparse_initializer: r('SparseTensorProto', 15),
      metadata_props: r('StringStringEntryProto', 16),
    },
  },
  NodeProto: {
    fields: {
      input: r('string', 1),
      output: r('string', 2),
      name: f('string', 3),
      op_type: f('string', 4),
      attribute: r('AttributeProto', 5),
      doc_string: f('string', 6),
      domain: f('string', 7),
      overload: f('string', 8),
      metadata_props: r('StringStringEntryProto', 9),
    },
  },
  AttributeProto: {
    fields: {
      name: f('string', 1),
      f: f('float', 2),
      i: f('int64', 3),
      s: f('bytes', 4),
      t: f('TensorProto', 5),
      g: f('GraphProto', 6),
      floats: r('float', 7),
      ints: r('int64', 8),
      strings: r('bytes', 9),
      tensors: r('TensorProto', 10),
      graphs: r('GraphProto', 11),
      doc_string: f('string', 13),
      tp: f('TypeProto', 14),
      type_protos: r('TypeProto', 15),
      type: f('int32', 20),
      ref_attr_name: f('string', 21),
      sparse_tensor: f('SparseTensorProto', 22),
      sparse_tensors: r('SparseTensorProto', 23),
    },
  },
  ValueInfoProto: {
    fields: { name: f('string', 1), type: f('TypeProto', 2), doc_string: f('string', 3), metadata_props: r('StringStringEntryProto', 4) },
  },
  TypeProto: {
    fields: {
      tensor_type: f('Tensor', 1),
      sequence_type: f('Sequence', 4),
      map_type: f('Map', 5),
      denotation: f('string', 6),
      opaque_type: f('Opaque', 7),
      sparse_tensor_type: f('SparseTensor', 8),
      optional_type: f('Optional', 9),
    },
    nested: {
      Tensor: { fields: { elem_type: f('int32', 1), shape: f('TensorShapeProto', 2) } },
      Sequence: { fields: { elem_type: f('TypeProto', 1) } },
      Map: { fields: { key_type: f('int32', 1), value_type: f('TypeProto', 2) } },
      Optional: { fields: { elem_type: f('TypeProto', 1) } },
      SparseTensor: { fields: { elem_type: f('int32', 1), shape: f('TensorShapeProto', 2) } },
      Opaque: { fields: { domain: f('string', 1), name: f('string', 2) } },
    },
  },
  TensorShapeProto: {
    fields: { dim: r('Dimension', 1) },
    nested: { Dimension: { fields: { dim_value: f('int64', 1), dim_param: f('string', 2), denotation: f('string', 3) } } },
  },
  TensorProto: {
    fields: {
      dims: r('int64', 1),
      data_type: f('int32', 2),
      segment: f('Segment', 3),
      float_data: r('float', 4),
      int32_data: r('int32', 5),
      string_data: r('bytes', 6),
      int64_data: r('int64', 7),
      name: f('string', 8),
      raw_data: f('bytes', 9),
      double_data: r('double', 10),
      uint64_data: r('uint64', 11),
      doc_string: f('string', 12),
      external_data: r('StringStringEntryProto', 13),
      data_location: f('int32', 14),
      metadata_props: r('StringStringEntryProto', 16),
    },
    nested: { Segment: { fields: { begin: f('int64', 1), end: f('int64', 2) } } },
  },
  SparseTensorProto: { fields: { values: f('TensorProto', 1), indices: f('TensorProto', 2), dims: r('int64', 3) } },
  TensorAnnotation: { fields: { tensor_name: f('string', 1), quant_parameter_tensor_names: r('StringStringEntryProto', 2) } },
  TrainingInfoProto: {
    fields: {
      initialization: f('GraphProto', 1),
      algorithm: f('GraphProto', 2),
      initialization_binding: r('StringStringEntryProto', 3),
      update_binding: r('StringStringEntryProto', 4),
    },
  },
  FunctionProto: {
    fields: {
      name: f('string', 1),
      input: r('string', 4),
      output: r('string', 5),
      attribute: r('string', 6),
      node: r('NodeProto', 7),
      doc_string: f('string', 8),
      opset_import: r('OperatorSetIdProto', 9),
      domain: f('string', 10),
      attribute_proto: r('AttributeProto', 11),
      value_info: r('ValueInfoProto', 12),
      overload: f('string', 13),
      metadata_props: r('StringStringEntryProto', 14),
    },
  },
};

let modelType: protobuf.Type | undefined;

/** The protobufjs type of onnx.ModelProto (built on first use). */
export function modelProtoType(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON({ nested: { onnx: { nested: MESSAGES } } }).lookupType('onnx.ModelProto');
  return modelType;
}

/** An int64 as protobufjs hands it out (number, or Long when the long package is present) -> number. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'toNumber' in v) return (v as { toNumber(): number }).toNumber();
  return Number(v ?? 0);
}

/** An int64 as exact decimal text (attribute values such as INT64_MAX must not round). */
export function int64Text(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (v && typeof v === 'object' && 'toString' in v) return (v as { toString(): string }).toString();
  return String(v ?? 0);
}
