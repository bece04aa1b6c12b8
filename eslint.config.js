// Lint rules: ESLint's and typescript-eslint's recommended sets; formatting is Prettier's job.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "out/", "dist/", "native/build/", "scratch/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { module: "writable", require: "readonly" } },
  },
  {
    languageOptions: { globals: { console: "readonly", process: "readonly", performance: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
  // The core runs in a browser: no process, Buffer or require in what src/index.ts reaches (node:* imports
  // and the layers are checked by dependency-cruiser, .dependency-cruiser.cjs).
  {
    files: [
      "src/{random,math,kernels,energies,samplers,smc,objectives,train,eval,rbm,experiments,data,divergences,networks,gebm,flows,mmd-flow}/**/*.ts",
      "src/backend/tfjs/**/*.ts",
      "src/backend/wasm-kernels/**/*.ts",
      "src/index.ts",
    ],
    rules: {
      "no-restricted-globals": [
        "error",
        { name: "process", message: "the core is host-free; read the environment in src/node.ts" },
        { name: "Buffer", message: "the core is host-free; use Uint8Array" },
        { name: "require", message: "the core is host-free" },
      ],
    },
  },
);
