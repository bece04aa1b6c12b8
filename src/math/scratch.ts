/**
 * Grow-only named scratch buffers: kernels ask for `name` with a minimum length and get the same array
 * back on later calls (reallocated only when a longer one is needed), so hot loops allocate nothing after
 * warm-up. Not re-entrant: a kernel must not hold two live uses of one name.
 */
function grow<T extends { length: number }>(
  buffers: Map<string, T>,
  name: string,
  len: number,
  make: (len: number) => T,
): T {
  let a = buffers.get(name);
  if (!a || a.length < len) {
    a = make(len);
    buffers.set(name, a);
  }
  return a;
}

export class Scratch {
  private readonly f32 = new Map<string, Float32Array>();
  private readonly f64 = new Map<string, Float64Array>();
  private readonly u8 = new Map<string, Uint8Array>();
  private readonly i32 = new Map<string, Int32Array>();

  float32(name: string, len: number): Float32Array {
    return grow(this.f32, name, len, (l) => new Float32Array(l));
  }

  float64(name: string, len: number): Float64Array {
    return grow(this.f64, name, len, (l) => new Float64Array(l));
  }

  uint8(name: string, len: number): Uint8Array {
    return grow(this.u8, name, len, (l) => new Uint8Array(l));
  }

  int32(name: string, len: number): Int32Array {
    return grow(this.i32, name, len, (l) => new Int32Array(l));
  }
}
