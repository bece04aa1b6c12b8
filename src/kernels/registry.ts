/**
 * Named kernels and the one backend-selection policy (the shape of TensorFlow.js's kernel registry).
 *
 * Domain code (energies, samplers, smc, objectives, rbm, …) never imports a backend. It declares a kernel
 * once with `defineKernel(name, typescriptImpl)` — the portable TypeScript implementation is registered
 * under the backend "typescript", which is always there — and calls `kernel.get()` where it runs. Backends
 * (the TensorFlow.js wasm backend, the native addon, the WebAssembly build of its kernels) register
 * themselves with `registerBackend` and add their implementations with `registerKernel`; nothing here
 * imports them.
 *
 * Policy (the only one in the library): the request is set by `setBackend(name)` (the Node entry passes
 * EBM_BACKEND through it; the CLI's --backend likewise), "auto" by default. "auto" picks the available
 * backend of highest priority (except those registered with `auto: false`, which run only when named); a
 * named backend that is unavailable is an error that says why. A kernel resolves to the implementation of
 * the selected backend or, when that backend does not provide it, of the next available backend below it
 * (native → wasm-simd → wasm → typescript). `backendInfo()` says what runs and, when a faster backend was
 * passed over, why.
 *
 * This module has no host dependency: it runs in Node and in a browser.
 */

export interface BackendSpec {
  /** Name used by setBackend / EBM_BACKEND / --backend. */
  readonly name: string;
  /** Higher wins under "auto"; fallback for a missing kernel goes to the next lower one. */
  readonly priority: number;
  /** Called once, on first selection: undefined if usable, else the reason it is not (one line). */
  init?(): string | undefined;
  /**
   * false: the backend runs only when asked for by name — "auto" passes over it and no other backend's
   * kernels fall back to it (a host can offer a backend without changing what "auto" picks). Default true.
   */
  readonly auto?: boolean;
  /** Thread count of the backend's kernels (absent: single-threaded). */
  getThreads?(): number;
  /** Sets the thread count (integer ≥ 1); returns the count in effect. */
  setThreads?(n: number): number;
}

export interface BackendInfo {
  /** The backend selected for this process. */
  readonly name: string;
  /** What was asked for ("auto" unless set). */
  readonly requested: string;
  /** Who asked: "default", "setBackend()", "EBM_BACKEND", "--backend", … */
  readonly source: string;
  /** Backends of higher priority that were passed over under "auto", with the reason. */
  readonly fallback: readonly { backend: string; reason: string }[];
  /** Threads of the selected backend's kernels. */
  readonly threads: number;
  /** Every registered backend name, highest priority first. */
  readonly available: readonly string[];
}

interface BackendEntry {
  spec: BackendSpec;
  /** undefined: not initialised yet; "" usable; otherwise the reason it is not. */
  status?: string;
  kernels: Map<string, unknown>;
}

const backends = new Map<string, BackendEntry>();
let request = { name: "auto", source: "default" };
/** Bumped on every change that can alter a resolution; kernels cache their resolution per version. */
let version = 0;
let resolved: { version: number; chain: BackendEntry[]; info: BackendInfo } | undefined;

function entry(name: string): BackendEntry {
  let e = backends.get(name);
  if (!e) {
    // A kernel may be registered before its backend (module load order); the spec follows.
    e = { spec: { name, priority: Number.NEGATIVE_INFINITY }, kernels: new Map() };
    backends.set(name, e);
  }
  return e;
}

/** Registers (or re-registers) a backend. Its kernels are added with `registerKernel`. */
export function registerBackend(spec: BackendSpec): void {
  const e = entry(spec.name);
  e.spec = spec;
  e.status = undefined;
  version++;
}

/** Adds backend `backend`'s implementation of `kernel`. */
export function registerKernel<T>(backend: string, kernel: Kernel<T>, impl: T): void {
  entry(backend).kernels.set(kernel.name, impl);
  version++;
}

registerBackend({ name: "typescript", priority: 0 });

/**
 * Sets the backend request: "auto" or a backend name. It is checked when a kernel is next resolved (so
 * an unknown or unavailable backend is reported where it matters, naming `source`).
 */
export function setBackend(name: string, source = "setBackend()"): void {
  request = { name, source };
  version++;
}

function usable(e: BackendEntry): boolean {
  if (e.status === undefined) {
    try {
      e.status = e.spec.init?.() ?? "";
    } catch (err) {
      e.status = (err as Error).message.split("\n")[0] || "initialisation failed";
    }
  }
  return e.status === "";
}

function resolve(): { chain: BackendEntry[]; info: BackendInfo } {
  if (resolved && resolved.version === version) return resolved;
  const v = version;
  resolved = { version: v, ...resolveRequest(request) };
  return resolved;
}

function resolveRequest(request: { name: string; source: string }): {
  chain: BackendEntry[];
  info: BackendInfo;
} {
  const ordered = [...backends.values()]
    .filter((e) => Number.isFinite(e.spec.priority))
    .sort((a, b) => b.spec.priority - a.spec.priority);
  const names = ordered.map((e) => e.spec.name);
  const fallback: { backend: string; reason: string }[] = [];
  let selected: BackendEntry | undefined;
  if (request.name === "auto") {
    for (const e of ordered) {
      if (e.spec.auto === false) continue;
      if (usable(e)) {
        selected = e;
        break;
      }
      fallback.push({ backend: e.spec.name, reason: e.status! });
    }
  } else {
    selected = ordered.find((e) => e.spec.name === request.name);
    if (!selected)
      throw new RangeError(
        `${request.source} must be auto or one of ${names.join(", ")}, got '${request.name}'`,
      );
    if (!usable(selected))
      throw new Error(
        `${request.name} backend requested (${request.source}) but unavailable: ${selected.status}`,
      );
  }
  const chain = ordered.filter(
    (e) =>
      e.spec.priority <= selected!.spec.priority && (e === selected || e.spec.auto !== false) && usable(e),
  );
  const info: BackendInfo = {
    name: selected!.spec.name,
    requested: request.name,
    source: request.source,
    fallback,
    threads: selected!.spec.getThreads?.() ?? 1,
    available: names,
  };
  return { chain, info };
}

/** What runs: the selected backend, what was requested and by whom, and why faster ones were passed over. */
export function backendInfo(): BackendInfo {
  const info = resolve().info;
  return { ...info, threads: resolve().chain[0].spec.getThreads?.() ?? 1 };
}

/** The selected backend's name (resolves the request; throws if it cannot be met). */
export function selectedBackend(): string {
  return resolve().info.name;
}

/** Sets the selected backend's thread count; a single-threaded backend accepts only 1. */
export function setThreads(n: number): number {
  if (!(Number.isInteger(n) && n >= 1 && n <= 256))
    throw new RangeError(`threads must be an integer in [1, 256], got ${n}`);
  const spec = resolve().chain[0].spec;
  if (spec.setThreads) return spec.setThreads(n);
  if (n !== 1) throw new RangeError(`the ${spec.name} backend runs on 1 thread`);
  return 1;
}

/** A named kernel: `get()` returns the implementation of the selected backend (or of the next one down). */
export class Kernel<T> {
  private cacheVersion = -1;
  private cacheImpl: T | undefined;
  private cacheBackend = "";

  constructor(readonly name: string) {}

  /** The implementation to use now, or undefined if no backend in the chain provides one. */
  get(): T | undefined {
    if (this.cacheVersion !== version) this.refresh();
    return this.cacheImpl;
  }

  /** Like `get`, but throws a clear error when no backend provides the kernel. */
  require(): T {
    const impl = this.get();
    if (impl === undefined)
      throw new Error(
        `no available backend provides the '${this.name}' kernel (selected: ${selectedBackend()})`,
      );
    return impl;
  }

  /**
   * The implementation from the chain that starts at backend `name` instead of the selected one (which
   * must be available; "auto" means the selected one), and the backend that provides it.
   */
  from(name: string, source = "backend option"): { impl: T | undefined; backend: string } {
    if (name === "auto") return { impl: this.get(), backend: this.backend() };
    const hit = resolveRequest({ name, source }).chain.find((e) => e.kernels.has(this.name));
    return { impl: hit?.kernels.get(this.name) as T | undefined, backend: hit?.spec.name ?? "" };
  }

  /** The backend whose implementation `get()` returns ("" if none). */
  backend(): string {
    if (this.cacheVersion !== version) this.refresh();
    return this.cacheBackend;
  }

  private refresh(): void {
    const v = version;
    const hit = resolve().chain.find((e) => e.kernels.has(this.name));
    this.cacheImpl = hit?.kernels.get(this.name) as T | undefined;
    this.cacheBackend = hit?.spec.name ?? "";
    this.cacheVersion = v;
  }
}

/**
 * Declares the kernel `name`; `typescriptImpl`, when given, is registered under the "typescript" backend
 * (always available), so the kernel resolves on every host.
 */
export function defineKernel<T>(name: string, typescriptImpl?: T): Kernel<T> {
  const k = new Kernel<T>(name);
  if (typescriptImpl !== undefined) registerKernel("typescript", k, typescriptImpl);
  return k;
}
