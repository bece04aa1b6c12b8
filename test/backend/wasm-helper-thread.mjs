// Starts test/backend/wasm-helper-thread.ts in a worker_threads Worker: Node 20 does not carry the test
// runner's --import hooks into workers, so this registers tsx's loader first.
import { register } from "tsx/esm/api";

register();
await import("./wasm-helper-thread.ts");
