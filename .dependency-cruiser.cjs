// The layers of the library, checked by `npm run lint` (dependency-cruiser):
//   bottom   random/, math/, kernels/ (the kernel registry), energies/contract.ts
//   domain   energies/, samplers/, smc/, objectives/, train/, eval/, rbm/, experiments/, divergences/, networks/, gebm/, flows/, mmd-flow/
//   backends backend/tfjs (core: TensorFlow.js wasm), backend/wasm-kernels (core: the native kernels compiled
//            to WebAssembly SIMD), backend/native (Node only: the C++ addon)
//   entries  src/index.ts (the core: every host), src/node.ts (adds io/, targets/, viz/, the addon)
//   users    src/cli/, bench/ — through the entries only; web/ (the playground page) through src/index.ts only
// Domain code never imports a backend; backends register their kernels with kernels/registry.ts.
/** @type {import('dependency-cruiser').IConfiguration} */
const DOMAIN =
  "^src/(random|math|kernels|energies|samplers|smc|objectives|train|eval|rbm|experiments|data|divergences|networks|gebm|flows|mmd-flow)/";
const NODE_ONLY = "^src/(io|targets|viz|backend/native|cli)/|^src/node\\.ts$";

module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", comment: "import cycles", from: {}, to: { circular: true } },
    {
      name: "domain-not-to-backend",
      severity: "error",
      comment: "domain code asks the kernel registry, never a backend module",
      from: { path: DOMAIN },
      to: { path: "^src/backend/" },
    },
    {
      name: "domain-not-to-hosts",
      severity: "error",
      comment: "domain code is host-free: no files, target loading, rendering, CLI or entry points",
      from: { path: DOMAIN },
      to: { path: `${NODE_ONLY}|^src/index\\.ts$` },
    },
    {
      name: "core-no-node-builtins",
      severity: "error",
      comment: "the core runs in a browser: no node:* module",
      from: { path: `${DOMAIN}|^src/backend/(tfjs|wasm-kernels)/|^src/index\\.ts$` },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "core-entry-not-to-node-only",
      severity: "error",
      comment: "src/index.ts bundles for the browser: nothing it reaches may be Node-only",
      from: { path: "^src/index\\.ts$" },
      to: { path: NODE_ONLY, reachable: true },
    },
    {
      name: "library-not-to-cli",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/cli/" },
      to: { path: "^src/cli/|^bench/" },
    },
    {
      name: "users-through-entries",
      severity: "error",
      comment: "the CLI and the benchmarks use the public API (src/index.ts, src/node.ts) only",
      from: { path: "^src/cli/|^bench/" },
      to: { path: "^src/", pathNot: "^src/(cli/|index\\.ts$|node\\.ts$)" },
    },
    {
      name: "web-through-core-entry",
      severity: "error",
      comment: "the playground (web/) runs in a browser: it uses the core entry src/index.ts only",
      from: { path: "^web/" },
      to: { path: "^src/", pathNot: "^src/index\\.ts$" },
    },
    {
      name: "web-no-node-builtins",
      severity: "error",
      comment: "the playground runs in a browser: no node:* module",
      from: { path: "^web/" },
      to: { dependencyTypes: ["core"] },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".mjs"] },
  },
};
