// Loaded before every test file (scripts/run-tests.mjs): the Node entry registers the native backend and
// applies EBM_BACKEND, as for a user of the library, so tests that import modules directly run on the
// selected backend.
import "../src/node.ts";
