// ONNX TensorProto.DataType table: numbers, names, element sizes, byte-plane widths.
//
// Owns: the mapping between data_type numbers and stable names used in manifests.
// Must never: throw on an unknown number (new ONNX versions add types; they get a
// `typeN` name and are treated as opaque bytes).

interface DtypeInfo {
  name: string;
  /** Bytes per element; 0 = variable (string); sub-byte types report 1 (packed storage). */
  size: number;
  /** Byte width for byte-plane splitting (complex types split per component). */
  plane: number;
}

const TABLE: ReadonlyMap<number, DtypeInfo> = new Map<number, DtypeInfo>([
  [1, { name: 'float32', size: 4, plane: 4 }],
  [2, { name: 'uint8', size: 1, plane: 1 }],
  [3, { name: 'int8', size: 1, plane: 1 }],
  [4, { name: 'uint16', size: 2, plane: 2 }],
  [5, { name: 'int16', size: 2, plane: 2 }],
  [6, { name: 'int32', size: 4, plane: 4 }],
  [7, { name: 'int64', size: 8, plane: 8 }],
  [8, { name: 'string', size: 0, plane: 1 }],
  [9, { name: 'bool', size: 1, plane: 1 }],
  [10, { name: 'float16', size: 2, plane: 2 }],
  [11, { name: 'float64', size: 8, plane: 8 }],
  [12, { name: 'uint32', size: 4, plane: 4 }],
  [13, { name: 'uint64', size: 8, plane: 8 }],
  [14, { name: 'complex64', size: 8, plane: 4 }],
  [15, { name: 'complex128', size: 16, plane: 8 }],
  [16, { name: 'bfloat16', size: 2, plane: 2 }],
  [17, { name: 'float8e4m3fn', size: 1, plane: 1 }],
  [18, { name: 'float8e4m3fnuz', size: 1, plane: 1 }],
  [19, { name: 'float8e5m2', size: 1, plane: 1 }],
  [20, { name: 'float8e5m2fnuz', size: 1, plane: 1 }],
  [21, { name: 'uint4', size: 1, plane: 1 }],
  [22, { name: 'int4', size: 1, plane: 1 }],
  [23, { name: 'float4e2m1', size: 1, plane: 1 }],
  [24, { name: 'float8e8m0', size: 1, plane: 1 }],
]);

const BY_NAME: ReadonlyMap<string, number> = new Map([...TABLE].map(([n, info]) => [info.name, n]));

/** Name of a data_type number; unknown numbers (and 0 = undefined) become `type${n}`. */
export function dtypeName(n: number): string {
  return TABLE.get(n)?.name ?? `type${n}`;
}

/** Inverse of dtypeName, including the `typeN` form; undefined for anything else. */
export function dtypeFromName(name: string): number | undefined {
  const known = BY_NAME.get(name);
  if (known !== undefined) return known;
  const m = /^type(0|[1-9][0-9]{0,8})$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Element size in bytes: 0 for string (variable), 1 for unknown and sub-byte types. */
export function dtypeSize(n: number): number {
  return TABLE.get(n)?.size ?? 1;
}

/** Byte width for byte-plane splitting: element size for 2/4/8-byte types, component size for complex, else 1. */
export function planeWidth(n: number): number {
  return TABLE.get(n)?.plane ?? 1;
}
