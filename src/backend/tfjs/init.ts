/**
 * TensorFlow.js setup: the ONE module that imports `@tensorflow/tfjs-core` and
 * `@tensorflow/tfjs-backend-wasm`. Other files in src/backend/tfjs/ take `tf` from here; nothing outside
 * src/backend/ may import tfjs or its types.
 *
 * Two things happen in `ensureTfBackend()` (idempotent, call it before any tensor op):
 *
 * 1. The WASM backend is selected, with its .wasm binaries read from the prefix set by `setTfWasmPrefix`
 *    (the Node entry sets the installed package's `dist/` folder, so nothing is ever downloaded). In Node
 *    the backend runs single-threaded (no SharedArrayBuffer worker pool), with SIMD when available.
 *
 * 2. Kernel gradients are registered. tfjs-core's main entry registers NO gradients (they live in
 *    `dist/register_all_gradients.js`, which only the `@tensorflow/tfjs` union package imports, and deep
 *    ESM imports of tfjs packages break), so `tf.grad` on plain tfjs-core fails with "gradient function not
 *    found". We register our own, for the kernels our code puts on the tape. Every gradient here is written
 *    from the op's saved INPUTS only (never from its saved outputs: tfjs saves outputs as clones made before
 *    the op's own tape node exists, which disconnects them and silently breaks higher-order gradients —
 *    tfjs issue 3252), and only with ops whose gradients are also registered here, so the set is closed
 *    under differentiation and gradients of any order are correct. The matmul gradients use explicit
 *    transposes: the wasm kernel's transposeA/transposeB path is ~10× slower than transpose + plain matmul.
 */
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import * as tf from "@tensorflow/tfjs-core";
import { tfWasmPrefix } from "./prefix.ts";

export { tf };
export { setTfWasmPrefix } from "./prefix.ts";

let ready: Promise<void> | undefined;

/** Selects the WASM backend and registers the kernel gradients (once; later calls return the same promise). */
export function ensureTfBackend(): Promise<void> {
  if (!ready) {
    ready = init();
    ready.catch(() => {
      ready = undefined; // allow a retry after a failure
    });
  }
  return ready;
}

async function init(): Promise<void> {
  const prefix = tfWasmPrefix();
  if (prefix !== undefined) setWasmPaths(prefix);
  // The single-threaded SIMD binary everywhere, also on a cross-origin-isolated page (where tfjs would
  // otherwise pick its threaded build): the same binary as Node's, so seeded runs give Node's numbers.
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  const ok = await tf.setBackend("wasm");
  if (!ok || tf.getBackend() !== "wasm") throw new Error("tfjs: could not initialise the wasm backend");
  registerKernelGradients();
}

// ---------------------------------------------------------------------------------------------------------
// Kernel gradients
// ---------------------------------------------------------------------------------------------------------

type T = tf.Tensor;
type Attrs = tf.NamedAttrMap;

/** Sums `dy` over the axes that broadcasting added or stretched, so the result has `shape`. */
function reduceTo(dy: T, shape: number[]): T {
  if (tf.util.arraysEqual(dy.shape, shape)) return dy;
  const m = dy.shape[dy.rank - 1];
  if (shape.length === 1 && shape[0] === m && dy.rank >= 2) {
    // A bias gradient (sum over every leading axis) as ones[1,rows]·dy[rows,m]: the wasm Sum kernel
    // transposes first when the reduced axes are not innermost, which costs ~3× more.
    const rows = dy.size / m;
    return tf.reshape(tf.matMul(tf.ones([1, rows]), tf.reshape(dy, [rows, m])), [m]);
  }
  const axes = tf.backend_util.getReductionAxes(shape, dy.shape);
  const s = axes.length > 0 ? tf.sum(dy, axes) : dy;
  return tf.reshape(s, shape);
}

/** Transpose of the last two axes (rank 2 or 3); a free reshape when one of them has size 1. */
function swapLast2(x: T): T {
  const r = x.rank;
  if (x.shape[r - 1] === 1 || x.shape[r - 2] === 1) {
    const s = x.shape.slice();
    [s[r - 2], s[r - 1]] = [s[r - 1], s[r - 2]];
    return tf.reshape(x, s);
  }
  return r === 2 ? tf.transpose(x, [1, 0]) : tf.transpose(x, [0, 2, 1]);
}

/** Plain (non-transposed-flag) matmul: the fast wasm path. */
function mm(a: T, b: T): T {
  return tf.matMul(a, b);
}

/**
 * Gradients of C = op(A)·op(B) where op is identity or transpose, written with explicit transposes and
 * plain matmuls. Lazy: each input's gradient is only computed if that input needs one.
 */
function matMulGrads(dy: T, a: T, b: T, tA: boolean, tB: boolean): { a: () => T; b: () => T } {
  if (a.rank !== b.rank || a.rank > 3 || (a.rank === 3 && a.shape[0] !== b.shape[0])) {
    throw new Error(
      `matmul gradient: only rank-2 or equal-batch rank-3 operands (got ${a.shape}, ${b.shape})`,
    );
  }
  const T_ = swapLast2;
  if (!tA && !tB) {
    // With a single output column (the energy layer), Aᵀ·dy = (dyᵀ·A)ᵀ needs no transpose of the big A.
    const narrow = dy.shape[dy.rank - 1] === 1;
    return { a: () => mm(dy, T_(b)), b: () => (narrow ? T_(mm(T_(dy), a)) : mm(T_(a), dy)) };
  }
  if (!tA && tB) return { a: () => mm(dy, b), b: () => mm(T_(dy), a) };
  if (tA && !tB) return { a: () => mm(b, T_(dy)), b: () => mm(a, dy) };
  return { a: () => mm(T_(b), T_(dy)), b: () => mm(T_(dy), T_(a)) };
}

const GRADIENTS: tf.GradConfig[] = [
  {
    kernelName: tf.Add,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      return { a: () => reduceTo(dy as T, a.shape), b: () => reduceTo(dy as T, b.shape) };
    },
  },
  {
    kernelName: tf.Sub,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      return { a: () => reduceTo(dy as T, a.shape), b: () => tf.neg(reduceTo(dy as T, b.shape)) };
    },
  },
  {
    kernelName: tf.Multiply,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved) => {
      const [a, b] = saved;
      return {
        a: () => reduceTo(tf.mul(dy as T, b), a.shape),
        b: () => reduceTo(tf.mul(dy as T, a), b.shape),
      };
    },
  },
  { kernelName: tf.Neg, gradFunc: (dy) => ({ x: () => tf.neg(dy as T) }) },
  {
    kernelName: tf.Sum,
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs: Attrs) => {
      const [x] = saved;
      const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
      const kept = x.shape.slice();
      for (const ax of axes) kept[ax] = 1;
      // Broadcast back with a multiply by a constant: differentiable in dy through Multiply + Sum.
      return { x: () => tf.mul(tf.reshape(dy as T, kept), tf.ones(x.shape)) };
    },
  },
  {
    kernelName: tf.Reshape,
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => ({ x: () => tf.reshape(dy as T, saved[0].shape) }),
  },
  {
    kernelName: tf.Transpose,
    gradFunc: (dy, _saved, attrs: Attrs) => {
      const perm = attrs.perm as number[];
      const inv = new Array<number>(perm.length);
      for (let i = 0; i < perm.length; i++) inv[perm[i]] = i;
      return { x: () => tf.transpose(dy as T, inv) };
    },
  },
  { kernelName: tf.Identity, gradFunc: (dy) => ({ x: () => tf.cast(dy as T, "float32") }) },
  { kernelName: tf.Cast, gradFunc: (dy) => ({ x: () => tf.clone(dy as T) }) },
  {
    kernelName: tf.BatchMatMul,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved, attrs: Attrs) =>
      matMulGrads(dy as T, saved[0], saved[1], attrs.transposeA as boolean, attrs.transposeB as boolean),
  },
  {
    kernelName: tf._FusedMatMul,
    inputsToSave: ["a", "b", "bias"],
    gradFunc: (dy, saved, attrs: Attrs) => {
      if (attrs.activation !== "linear" && attrs.activation != null) {
        throw new Error(`_FusedMatMul gradient: only linear activation (got ${attrs.activation})`);
      }
      const [a, b, bias] = saved;
      const g = matMulGrads(dy as T, a, b, attrs.transposeA as boolean, attrs.transposeB as boolean);
      return bias ? { ...g, bias: () => reduceTo(dy as T, bias.shape) } : g;
    },
  },
  {
    kernelName: tf.Square,
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as T, tf.mul(saved[0], 2)) }),
  },
  // Elementwise transcendental kernels (not used on our own tape, where activations are custom ops, but
  // registered correctly — from the saved input — so that a tf.grad over them is right at every order).
  {
    kernelName: tf.Exp,
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as T, tf.exp(saved[0])) }),
  },
  {
    kernelName: tf.Sigmoid,
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => ({
      x: () => {
        const s = tf.sigmoid(saved[0]);
        return tf.mul(dy as T, tf.mul(s, tf.sub(1, s)));
      },
    }),
  },
  {
    kernelName: tf.Softplus,
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as T, tf.sigmoid(saved[0])) }),
  },
  {
    kernelName: tf.Tanh,
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => ({
      x: () => {
        const t = tf.tanh(saved[0]);
        return tf.mul(dy as T, tf.sub(1, tf.mul(t, t)));
      },
    }),
  },
];

let gradientsRegistered = false;

/** Registers the gradients above (overriding any already registered for these kernels). */
function registerKernelGradients(): void {
  if (gradientsRegistered) return;
  for (const config of GRADIENTS) {
    if (tf.getGradient(config.kernelName) != null) tf.unregisterGradient(config.kernelName);
    tf.registerGradient(config);
  }
  gradientsRegistered = true;
}
