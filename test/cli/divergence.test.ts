/**
 * `ebm divergence` on small files (400 rows of two 2-D Gaussians, P as .csv, Q as .npy and .csv): the
 * human line and the --json object (fields; the estimate positive and below the closed-form KL within 3
 * SE), the RKHS and MLP critics and KALE, reproducibility from --seed, --help naming every option, and
 * one-line errors with exit code 2 naming the option or file for bad input.
 *
 * Two runs go through a child process as a user's would (a result and an error: exit codes, stdout and
 * stderr of a real process); the rest call the same entry point, `main(argv)` of src/cli/main.ts, in this
 * process with stdout and stderr captured — a process start costs more than the runs themselves.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { main } from "../../src/cli/main.ts";
import { gaussianFDivergence } from "../../src/divergences/gaussian.ts";
import { encodeNpy } from "../../src/io/samples.ts";
import { gaussianSample } from "../divergences/samples.ts";

const BIN = join(import.meta.dirname, "..", "..", "bin", "ebm.js");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI in a child process. */
function ebmProcess(...args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, "divergence", ...args],
      { encoding: "utf8", env: { ...process.env, CI: "1" } },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code as number) : 0;
        done({ code: typeof code === "number" ? code : -1, stdout, stderr });
      },
    );
  });
}

/** `main(argv)` in this process, stdout and stderr captured; process.exitCode restored afterwards. */
async function ebm(...args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const writeOut = process.stdout.write;
  const writeErr = process.stderr.write;
  const before = process.exitCode;
  const listeners = process.stdout.listeners("error");
  process.exitCode = undefined;
  // The test runner's own messages to its parent travel on this stdout as binary chunks: pass them on.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    if (typeof chunk !== "string") return writeOut.call(process.stdout, chunk, ...rest);
    out.push(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  let code: number;
  try {
    await main(["node", "ebm", "divergence", ...args]);
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
    code = Number(process.exitCode ?? 0);
    process.exitCode = before;
    // main() adds an EPIPE handler to stdout on every call.
    for (const l of process.stdout.listeners("error"))
      if (!listeners.includes(l)) process.stdout.off("error", l as () => void);
  }
  return { code, stdout: out.join(""), stderr: err.join("") };
}

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

/** Exit code 2, one line on stderr matching `pattern`, no stack trace. */
function assertUserError(r: Run, pattern: RegExp, what: string): void {
  assert.equal(r.code, 2, `${what}: ${r.stderr}`);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
  assert.match(lines[0], pattern, what);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
}

const tmp = mkdtempSync(join(tmpdir(), "ebm-divergence-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const P = { mean: [0, 0], cov: [1, 0, 0, 1] };
const Q = { mean: [0.8, 0], cov: [1, 0, 0, 1] };
const KL = gaussianFDivergence("kl", P, Q); // 0.32

function csv(path: string, header: string[], rows: number[][]): string {
  writeFileSync(path, `${header.join(",")}\n${rows.map((r) => r.join(",")).join("\n")}\n`);
  return path;
}

function rowsOf(s: { x: Float64Array; n: number; dim: number }): number[][] {
  return Array.from({ length: s.n }, (_, i) => Array.from(s.x.subarray(i * s.dim, (i + 1) * s.dim)));
}

const sp = gaussianSample(P, 400, 1);
const sq = gaussianSample(Q, 400, 2);
const pCsv = csv(join(tmp, "p.csv"), ["x", "y"], rowsOf(sp));
const qCsv = csv(join(tmp, "q.csv"), ["x", "y"], rowsOf(sq));
const qNpy = join(tmp, "q.npy");
writeFileSync(qNpy, encodeNpy({ data: sq.x, rows: sq.n, dim: 2 }));
const q3 = csv(
  join(tmp, "q3.csv"),
  ["a", "b", "c"],
  rowsOf(sq).map((r) => [...r, 1]),
);
const bad = join(tmp, "bad.csv");
writeFileSync(bad, "x,y\n1,2\n3,abc\n5,6\n7,8\n");
const tiny = csv(
  join(tmp, "tiny.csv"),
  ["x", "y"],
  [
    [0, 1],
    [1, 2],
    [2, 3],
  ],
);

describe("ebm divergence", () => {
  test("KL with the RKHS critic (a child process): the human line and --json; below the closed form", async () => {
    const r = await ebmProcess("--p", pCsv, "--q", qNpy, "--kind", "kl", "--seed", "3", "--json");
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^KL\(P‖Q\) = -?\d+\.\d+ ± \d+\.\d+ nats — held-out variational lower bound/);
    assert.match(
      lines[0],
      /RKHS critic: Gaussian kernel σ = [\d.]+ \(standardised units\), 256 landmarks, λ = .* \(chosen on the training split\)/,
    );
    assert.match(lines[0], /Newton converged after \d+ iterations at ‖∇J‖ = .*gap ≤ /);
    assert.match(lines[0], /SE: CLT over 200 \+ 200 held-out points/);
    const j = lastJson(r.stdout);
    for (const key of [
      "kind",
      "estimate",
      "stderr",
      "units",
      "method",
      "stderrMethod",
      "critic",
      "solver",
      "seed",
    ])
      assert.ok(key in j, `JSON has ${key}`);
    assert.equal(j.kind, "kl");
    assert.equal(j.units, "nats");
    assert.equal(j.seed, 3);
    assert.deepEqual(j.nTrain, { p: 200, q: 200 });
    const est = j.estimate as number;
    const se = j.stderr as number;
    assert.ok(se > 0 && est > 3 * se && est <= KL + 3 * se, `${est} ± ${se} vs KL ${KL}`);
  });

  test("KALE, and JS with the MLP critic; same seed, same numbers", async () => {
    const mlp = [
      "--p",
      pCsv,
      "--q",
      qCsv,
      "--kind",
      "js",
      "--critic",
      "mlp",
      "--hidden",
      "16,16",
      "--steps",
      "150",
    ];
    const kale = await ebm("--p", pCsv, "--q", qCsv, "--kind", "kale", "--json");
    const js = await ebm(...mlp, "--json");
    const js2 = await ebm(...mlp, "--json");
    const js3 = await ebm(...mlp, "--seed", "1", "--json");
    for (const r of [kale, js, js2, js3]) assert.equal(r.code, 0, r.stderr);
    assert.match(kale.stdout, /^KALE\(P‖Q\) = \d+\.\d+ ± \d+\.\d+ nats — KALE with penalty/);
    const k = lastJson(kale.stdout);
    assert.equal(k.kind, "kale");
    assert.ok((k.estimate as number) <= KL + 3 * (k.stderr as number) && (k.penalty as number) > 0);
    assert.match(js.stdout, /^JS\(P, Q\) = .* MLP critic 16×16 \(silu\), 150 Adam steps/);
    const a = lastJson(js.stdout);
    const b = lastJson(js2.stdout);
    const c = lastJson(js3.stdout);
    assert.equal((a.critic as { type: string }).type, "mlp");
    assert.equal(a.estimate, b.estimate);
    assert.notEqual(a.estimate, c.estimate);
    assert.ok((a.estimate as number) <= Math.LN2);
  });

  test("--help describes every option", async () => {
    const r = await ebm("--help");
    assert.equal(r.code, 0);
    for (const opt of [
      "--p <file>",
      "--q <file>",
      "--kind <name>",
      "--critic <type>",
      "--seed <n>",
      "--lambda <x>",
      "--bandwidth <x>",
      "--landmarks <n>",
      "--hidden <widths>",
      "--steps <n>",
      "--lr <x>",
      "--train-fraction <f>",
      "--json",
    ])
      assert.match(r.stdout, new RegExp(`${opt.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s+\\S`), opt);
    for (const kind of ["kl", "rkl", "js", "chi2", "hellinger", "tv", "kale"])
      assert.match(r.stdout, new RegExp(`${kind} =`));
  });

  test("bad input: one line, exit 2, naming the option or file", async () => {
    const missing = join(tmp, "nope.csv");
    // One in a child process: the real exit code and stderr.
    assertUserError(
      await ebmProcess("--p", missing, "--q", qCsv, "--kind", "kl"),
      /^ebm: error: --p .*nope\.csv/,
      "missing file",
    );
    const cases: [string[], RegExp, string][] = [
      [["--p", qCsv, "--q", missing, "--kind", "kl"], /--q .*nope\.csv/, "missing file"],
      [
        ["--p", pCsv, "--q", q3, "--kind", "kl"],
        /--q .*q3\.csv: 3 columns, but --p .*p\.csv has 2/,
        "columns",
      ],
      [
        ["--p", pCsv, "--q", qCsv, "--kind", "kld"],
        /--kind must be one of kl, rkl, js, chi2, hellinger, tv, kale, got 'kld'/,
        "kind",
      ],
      [["--p", pCsv, "--q", bad, "--kind", "js"], /--q .*bad\.csv: line 3, column 2.*abc/, "non-numeric"],
      [["--p", pCsv, "--q", qCsv], /--kind is required/, "no kind"],
      [["--q", qCsv, "--kind", "kl"], /--p FILE .* is required/, "no --p"],
      [["--p", pCsv, "--q", tiny, "--kind", "kl"], /--q .*tiny\.csv: 3 rows; at least 4/, "too few rows"],
      [
        ["--p", pCsv, "--q", qCsv, "--kind", "kl", "--critic", "svm"],
        /--critic must be rkhs or mlp/,
        "critic",
      ],
      [
        ["--p", pCsv, "--q", qCsv, "--kind", "kale", "--lambda", "auto"],
        /--lambda auto is for f-divergences/,
        "kale auto",
      ],
      [["--p", pCsv, "--q", qCsv, "--kind", "kl", "--lambda", "-1"], /--lambda must be positive/, "lambda"],
      [
        ["--p", pCsv, "--q", qCsv, "--kind", "kl", "--hidden", "8"],
        /--hidden applies to --critic mlp only/,
        "hidden",
      ],
      [
        ["--p", pCsv, "--q", qCsv, "--kind", "kl", "--critic", "mlp", "--hidden", "8,x"],
        /--hidden must be a number/,
        "hidden list",
      ],
      [
        ["--p", pCsv, "--q", qCsv, "--kind", "kl", "--train-fraction", "1.5"],
        /--train-fraction must be between 0 and 1/,
        "fraction",
      ],
      [["--p", pCsv, "--q", qCsv, "--kind", "kl", "--seed", "1.5"], /--seed must be an integer/, "seed"],
      [
        ["--p", pCsv, "--q", qCsv, "--kind", "kl", "--train-fraction", "0.005"],
        /--train-fraction: choosing the RKHS critic's λ or bandwidth needs at least 4 training rows of each sample .*got 2 of P and 2 of Q/,
        "training split too small to choose λ",
      ],
      [
        ["--p", pCsv, "--q", qCsv, "--kind", "js", "--critic", "mlp", "--train-fraction", "0.005"],
        /--train-fraction: the MLP critic's early stopping needs at least 4 training rows/,
        "training split too small to stop early",
      ],
    ];
    for (const [args, pattern, what] of cases) assertUserError(await ebm(...args), pattern, what);
  });
});
