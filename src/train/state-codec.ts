/**
 * A trainer's whole state as named tensors plus a JSON skeleton, and back: what a checkpoint stores.
 *
 * The state is plain data by design (θ, optimizer moments, walkers, weights, buffers, counters, keys), so
 * one generic codec serves every objective and optimizer: typed arrays become tensors named by their path
 * in the object ("objective.walkers.logw"), everything else (numbers — NaN and ±∞ included — booleans,
 * strings, null, nested objects and arrays) stays in the skeleton, where each typed array is replaced by a
 * reference {"$tensor": name, "$type": "Float64Array"}. Every tensor is float64; the integer and byte
 * arrays the states hold (ancestor indices, flags) are exact in float64. Decoding rebuilds the same
 * structure with the same array types, so a restored state continues bit for bit.
 */

type TypedArray = Float64Array | Float32Array | Int32Array | Uint32Array | Uint8Array | Int8Array;

const ARRAY_TYPES = {
  Float64Array,
  Float32Array,
  Int32Array,
  Uint32Array,
  Uint8Array,
  Int8Array,
} as const;

type ArrayTypeName = keyof typeof ARRAY_TYPES;

export interface EncodedState {
  /** JSON-serialisable structure with tensor references. */
  skeleton: unknown;
  /** Named float64 tensors (1-D). */
  tensors: Record<string, Float64Array>;
}

function typeName(v: unknown): ArrayTypeName | undefined {
  for (const name of Object.keys(ARRAY_TYPES) as ArrayTypeName[])
    if (v instanceof ARRAY_TYPES[name]) return name;
  return undefined;
}

/** Encodes `state` (see the module comment); `prefix` starts every tensor name. */
export function encodeState(state: unknown, prefix: string): EncodedState {
  const tensors: Record<string, Float64Array> = {};
  const seen = new Set<object>();
  function walk(v: unknown, path: string): unknown {
    if (v === undefined) return { $undefined: true };
    if (v === null || typeof v === "boolean" || typeof v === "string") return v;
    if (typeof v === "number") return Number.isFinite(v) ? v : { $number: String(v) };
    if (typeof v !== "object") throw new TypeError(`cannot encode ${typeof v} at ${path}`);
    if (seen.has(v)) throw new TypeError(`state has a shared or cyclic reference at ${path}`);
    seen.add(v);
    const t = typeName(v);
    if (t) {
      const arr = v as TypedArray;
      tensors[path] = Float64Array.from(arr);
      return { $tensor: path, $type: t };
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}.${i}`));
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null)
      throw new TypeError(`cannot encode a class instance at ${path}`);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k.startsWith("$")) throw new TypeError(`state keys may not start with '$' (${path}.${k})`);
      out[k] = walk(x, `${path}.${k}`);
    }
    return out;
  }
  const skeleton = walk(state, prefix);
  return { skeleton, tensors };
}

/**
 * Rebuilds a state from its skeleton and tensors. Throws a RangeError naming the tensor when one is
 * missing or an integer array's values are not integers of its type.
 */
export function decodeState(
  skeleton: unknown,
  tensors: Readonly<Record<string, ArrayLike<number>>>,
): unknown {
  function walk(v: unknown): unknown {
    if (v === null || typeof v !== "object") return v;
    if (Array.isArray(v)) return v.map(walk);
    const o = v as Record<string, unknown>;
    if (o.$undefined === true) return undefined;
    if (typeof o.$number === "string") return Number(o.$number);
    if (typeof o.$tensor === "string") {
      const name = o.$tensor;
      const type = o.$type as ArrayTypeName;
      const Ctor = ARRAY_TYPES[type];
      if (!Ctor) throw new RangeError(`tensor ${name}: unknown array type ${String(type)}`);
      const data = tensors[name];
      if (!data) throw new RangeError(`tensor ${name} is missing`);
      const out = new Ctor(data.length);
      for (let i = 0; i < data.length; i++) {
        out[i] = data[i];
        if (out[i] !== data[i] && !(Number.isNaN(data[i]) && Number.isNaN(out[i])) && type !== "Float32Array")
          throw new RangeError(`tensor ${name}: value ${data[i]} at ${i} is not a valid ${type} element`);
      }
      return out;
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = walk(x);
    return out;
  }
  return walk(skeleton);
}
