/**
 * Hostile input for `ebm sample` and target files ("never wrong in silence, never a stack trace").
 *
 * Every reproduction of the issue runs as a real CLI process under `--max-old-space-size=1024`, with a
 * preload that records the process's peak resident memory and CPU time: each must end with exit code 2
 * and a single stderr line naming the file, option or field, print no stack, write nothing (not even the
 * --out folder), and stay under 10 s of CPU (25 s of wall-clock time, for a busy machine) and 1 GiB. A seeded mutator then damages the example targets
 * (deleted, duplicated or flipped characters, numbers made huge, negative, NaN or strings): each mutant
 * goes through the loader in-process (a TargetError of one line naming the file, or a valid target), and a
 * handful through the CLI (exit 2, or a normal run when the mutant stayed valid). Every file is generated
 * into a temporary folder here; nothing big is committed.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, describe, test } from "node:test";
import { parse as parseYaml } from "yaml";
import { loadTarget, TargetError } from "../../src/node.ts";
import { WASM_PASS_SKIP } from "../helpers.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "bin", "ebm.js");
const EXAMPLES = join(ROOT, "examples", "targets");
const tmp = mkdtempSync(join(tmpdir(), "ebm-hostile-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Limits every case must stay under: CPU seconds (startup through tsx included, about 1.5 s), which do not
 * depend on how busy the machine is, wall-clock seconds with room for a loaded machine, and peak memory.
 */
const MAX_CPU_SECONDS = 10;
const MAX_WALL_SECONDS = 25;
const MAX_RSS_MIB = 1024;

// Records the peak resident set size (KiB) and the CPU time (µs) of the child when it exits normally.
const RSS_PRELOAD = join(tmp, "rss.mjs");
writeFileSync(
  RSS_PRELOAD,
  'import { writeFileSync } from "node:fs";\n' +
    "process.on('exit', () => { const u = process.resourceUsage(); if (process.env.EBM_RSS_FILE) " +
    "writeFileSync(process.env.EBM_RSS_FILE, `${u.maxRSS} ${u.userCPUTime + u.systemCPUTime}`); });\n",
);

interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  seconds: number;
  cpuSeconds: number;
  rssMiB: number;
}

const measured: { name: string; seconds: number; cpuSeconds: number; rssMiB: number }[] = [];
let runCounter = 0;

/** Runs `ebm …args` with a 1 GiB old-space limit; kills it after 30 s (then the time check fails). */
function ebm(name: string, args: string[]): Promise<Run> {
  const rssFile = join(tmp, `rss-${runCounter++}.txt`);
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    ["--max-old-space-size=1024", "--import", pathToFileURL(RSS_PRELOAD).href, BIN, ...args],
    { env: { ...process.env, CI: "1", EBM_RSS_FILE: rssFile }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  return new Promise((done) => {
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - t0) / 1000;
      const [rss, cpu] = existsSync(rssFile)
        ? readFileSync(rssFile, "utf8").split(" ").map(Number)
        : [Number.NaN, Number.NaN];
      const rssMiB = rss / 1024;
      const cpuSeconds = cpu / 1e6;
      measured.push({ name, seconds, cpuSeconds, rssMiB });
      done({ code, signal, stdout, stderr, seconds, cpuSeconds, rssMiB });
    });
  });
}

/** Bounded time and memory, no stack trace. */
function assertBounded(r: Run): void {
  assert.ok(r.cpuSeconds < MAX_CPU_SECONDS, `took ${r.cpuSeconds.toFixed(1)} s of CPU (NaN: it died)`);
  assert.ok(r.seconds < MAX_WALL_SECONDS, `took ${r.seconds.toFixed(1)} s`);
  assert.ok(r.rssMiB < MAX_RSS_MIB, `peak RSS ${r.rssMiB.toFixed(0)} MiB (NaN: the process died)`);
  assert.doesNotMatch(r.stderr, / {4}at /, "no stack trace");
}

/** Exit 2 with exactly one stderr line, "ebm: error: …", matching `pattern`. */
function assertRefused(r: Run, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one stderr line: ${JSON.stringify(r.stderr)}`);
  assert.match(lines[0], /^ebm: error: /);
  assert.match(lines[0], pattern);
  assertBounded(r);
}

function file(name: string, content: string | Uint8Array): string {
  const p = join(tmp, name);
  writeFileSync(p, content);
  return p;
}

/** An --out path in a folder of its own, which must not exist after a refused run. */
function outFor(name: string): string {
  return join(tmp, "outs", name.replace(/\W+/g, "_"), "draws.csv");
}

const SHORT = ["--chains", "2", "--warmup", "20", "--draws", "20", "--json"];

// --- The reproductions of the issue ------------------------------------------------------------------

const funnel = join(EXAMPLES, "funnel.yaml");
const bomb = file(
  "bomb.yaml",
  [
    "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]",
    ..."bcdefghi".split("").map((x, i) => `${x}: &${x} [${Array(9).fill(`*${"abcdefghi"[i]}`).join(", ")}]`),
    "type: funnel",
    "dim: 2",
    "",
  ].join("\n"),
);
// 20 MiB of valid YAML (a list of numbers under a key): refused from its size, never parsed.
const big = file(
  "big.yaml",
  Buffer.concat([Buffer.from("type: funnel\ndim: 2\nb:\n"), Buffer.alloc(20 << 20, "- 1\n")]),
);
const rbmDir = join(tmp, "rbm");
mkdirSync(rbmDir);
const devZero = join(rbmDir, "zero.yaml");
writeFileSync(devZero, "type: rbm\npath: /dev/zero\n");
const passwd = join(rbmDir, "passwd.yaml");
writeFileSync(passwd, "type: rbm\npath: ../../../../../../../../etc/passwd\n");
const hugeDim = file("huge-dim.yaml", "type: funnel\ndim: 100000000\n");
const dupJson = file("dup.json", '{"type": "funnel", "dim": 3, "dim": 4}');
const utf16 = file("utf16.yaml", Buffer.from("\ufefftype: funnel\ndim: 3\n", "utf16le"));
const binary = file(
  "binary.json",
  Uint8Array.from({ length: 512 }, (_, i) => (i * 37 + 11) & 0xff),
);
const nullDoc = file("null.json", "null");
const aFile = file("a-file", "x");

// The reproductions listed in the issue. Kinds of file (FIFO, folder), Latin-1 text and the messages
// with outside paths allowed are checked in-process by test/targets/load.test.ts.
const refusals: [string, string[], RegExp][] = [
  ["a YAML alias bomb", ["--target", bomb], /bomb\.yaml: invalid YAML: too many alias expansions/],
  [
    "a 20 MiB YAML target",
    ["--target", big],
    /big\.yaml: file is 20\.0 MiB, over the 1 MiB limit.*--max-file-mb/,
  ],
  [
    "/dev/zero as the target",
    ["--target", "/dev/zero"],
    /\/dev\/zero: cannot read file: it is a character device/,
  ],
  [
    "an rbm path: /dev/zero",
    ["--target", devZero],
    /zero\.yaml: path '\/dev\/zero' points outside .*--allow-outside-paths/,
  ],
  [
    "an rbm path: ../../etc/passwd",
    ["--target", passwd],
    /passwd\.yaml: path '\.\.\/.*etc\/passwd' points outside/,
  ],
  ["a funnel of dim 1e8", ["--target", hugeDim], /memory.*--chains 2 × --draws 20 × dim 100000000/],
  ["--chains 1e9", ["--target", funnel, "--chains", "1e9"], /memory.*--chains 1000000000.*--max-memory-gb/],
  ["--draws 1e9", ["--target", funnel, "--draws", "1e9"], /memory.*--draws 1000000000.*--max-memory-gb/],
  [
    "--seed 1.5",
    ["--target", funnel, "--seed", "1.5"],
    /--seed must be an integer within ±2\^53, got '1\.5'/,
  ],
  ["--seed 1e300", ["--target", funnel, "--seed", "1e300"], /--seed must be an integer within ±2\^53/],
  [
    "duplicate JSON keys",
    ["--target", dupJson],
    /dup\.json: invalid JSON: duplicate key "dim" at line 1, column 30/,
  ],
  ["a UTF-16 file", ["--target", utf16], /utf16\.yaml: is UTF-16 text .*save it as UTF-8/],
  ["a binary file", ["--target", binary], /binary\.json: (contains a NUL byte|is not valid UTF-8)/],
  [
    "a null document",
    ["--target", nullDoc],
    /null\.json: top level must be a mapping with a 'type' field, got null/,
  ],
];

// A long run (--draws 200000) that would take minutes: refused in seconds proves the check comes first.
const outRefusals: [string, string, RegExp][] = [
  ["--out under a file", join(aFile, "draws.csv"), /^ebm: error: --out: .*a-file is not a folder/],
  [
    "--out at a folder",
    join(tmp, "a-folder.csv"),
    /^ebm: error: --out: .*a-folder\.csv is a folder, not a file/,
  ],
  [
    "--out in /proc",
    "/proc/ebm-no-such-dir/x.csv",
    /^ebm: error: --out: cannot create folder \/proc\/ebm-no-such-dir/,
  ],
];
mkdirSync(join(tmp, "a-folder.csv"));

function timing(r: Run): string {
  return `${r.seconds.toFixed(2)} s (CPU ${r.cpuSeconds.toFixed(2)} s), peak RSS ${r.rssMiB.toFixed(0)} MiB`;
}

describe(
  "ebm sample refuses hostile input: one line, exit 2, nothing written, bounded",
  { concurrency: 2, skip: WASM_PASS_SKIP },
  () => {
    for (const [name, args, pattern] of refusals)
      test(name, async (t) => {
        const out = outFor(name);
        const r = await ebm(name, ["sample", ...SHORT, ...args, "--out", out]);
        t.diagnostic(timing(r));
        assertRefused(r, pattern);
        assert.equal(r.stdout, "");
        assert.ok(!existsSync(join(out, "..")), "nothing written, not even the --out folder");
      });

    for (const [name, out, pattern] of outRefusals)
      test(`${name}, before the run`, async (t) => {
        const r = await ebm(name, [
          "sample",
          "--target",
          funnel,
          ...SHORT,
          "--draws",
          "200000",
          "--out",
          out,
        ]);
        t.diagnostic(timing(r));
        assertRefused(r, pattern);
      });

    test("control characters in a description are escaped on output, text and --json", async (t) => {
      const ctl = file(
        "ctl.json",
        JSON.stringify({ type: "funnel", dim: 2, description: "evil\u001b[2J\u009b31m\u202eend\nline" }),
      );
      for (const json of [false, true]) {
        const args = ["sample", "--target", ctl, ...SHORT.filter((a) => a !== "--json")];
        const r = await ebm("control characters", json ? [...args, "--json"] : args);
        t.diagnostic(timing(r));
        assert.equal(r.code, 0, r.stderr);
        assertBounded(r);
        const raw = [...r.stdout].find((ch) => {
          const c = ch.charCodeAt(0);
          return (c < 0x20 && c !== 0x0a) || (c >= 0x7f && c <= 0x9f) || c === 0x202e;
        });
        assert.equal(raw, undefined, "no raw control character reaches the terminal");
        if (json) {
          const lines = r.stdout.trim().split("\n");
          const j = JSON.parse(lines[lines.length - 1]);
          assert.equal(j.target, "evil\u001b[2J\u009b31m\u202eend\nline", "JSON keeps the string, escaped");
        } else assert.match(r.stdout, /^evil\\x1b\[2J\\x9b31m\\u202eend\\x0aline$/m);
      }
    });
  },
);

// --- Mutations of the valid examples ------------------------------------------------------------------

/** mulberry32: a small seeded generator, so the corpus is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NUMBERS = [
  "1e309",
  "-1",
  "-1e308",
  "NaN",
  ".nan",
  "1e15",
  "99999999",
  "0",
  "-0",
  "1e-320",
  "0x1F",
  "1.5",
  '"3"',
  "[]",
  "null",
  "~",
  "2",
  "-.inf",
];

/** One to three random edits of `text`: delete, duplicate or flip a character, or replace a number. */
function mutate(text: string, r: () => number): string {
  const pick = <T>(a: readonly T[]) => a[Math.floor(r() * a.length)];
  let s = text;
  const edits = 1 + Math.floor(r() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(r() * s.length);
    const op = Math.floor(r() * 5);
    if (op === 0) s = s.slice(0, at) + s.slice(at + 1);
    else if (op === 1) s = s.slice(0, at) + s[at] + s.slice(at);
    else if (op === 2) s = s.slice(0, at) + String.fromCharCode(Math.floor(r() * 256)) + s.slice(at + 1);
    else if (op === 3)
      s =
        s.slice(0, at) +
        pick(["{", "}", "[", "]", ":", ",", "-", "&a", "*a", '"', "\n", "\t", " "]) +
        s.slice(at);
    else {
      const numbers = [...s.matchAll(/-?\d+(\.\d+)?([eE][-+]?\d+)?/g)];
      if (numbers.length === 0) continue;
      const m = pick(numbers);
      s = s.slice(0, m.index) + pick(NUMBERS) + s.slice((m.index ?? 0) + m[0].length);
    }
  }
  return s;
}

const mutantsDir = join(tmp, "mutants");
mkdirSync(mutantsDir);
const bases: { name: string; text: string; sampler: string }[] = [];
for (const f of readdirSync(EXAMPLES).sort()) {
  const text = readFileSync(join(EXAMPLES, f), "utf8");
  const sampler = /ising/.test(f) ? "gibbs" : "nuts";
  bases.push({ name: f, text, sampler });
  bases.push({
    name: f.replace(/\.ya?ml$/, ".json"),
    text: JSON.stringify(parseYaml(text), null, 1),
    sampler,
  });
}
const r = rng(20240611);
const mutants = Array.from({ length: 54 }, (_, i) => {
  const base = bases[i % bases.length];
  const path = join(mutantsDir, `m${String(i).padStart(2, "0")}-${base.name}`);
  const bytes = Buffer.from(mutate(base.text, r), "utf8");
  // Now and then a raw byte, so that some mutants are not UTF-8 at all.
  if (r() < 0.15) bytes[Math.floor(r() * bytes.length)] = Math.floor(r() * 256);
  writeFileSync(path, bytes);
  return { path, sampler: base.sampler };
});

describe("mutated example targets", { skip: WASM_PASS_SKIP }, () => {
  const outcome = new Map<string, "valid" | "refused">();
  let slowest = 0;

  test(`${mutants.length} mutants through the loader: a valid target, or one line naming the file`, () => {
    for (const m of mutants) {
      const t0 = performance.now();
      try {
        const target = loadTarget(m.path);
        outcome.set(m.path, "valid");
        assert.ok(target.description.length > 0);
      } catch (err) {
        assert.ok(err instanceof TargetError, `${basename(m.path)}: ${String(err)}`);
        assert.ok(!err.message.includes("\n"), err.message);
        assert.ok(err.message.startsWith(`${m.path}: `), err.message);
        outcome.set(m.path, "refused");
      }
      slowest = Math.max(slowest, performance.now() - t0);
    }
    assert.ok(slowest < 1000, `slowest load ${slowest.toFixed(0)} ms`);
    const refused = [...outcome.values()].filter((v) => v === "refused").length;
    // The corpus exercises both outcomes.
    assert.ok(refused > 5 && refused < mutants.length, `${refused} of ${mutants.length} refused`);
  });

  test(
    "a few mutants through the CLI: exit 2 with one line naming the file, or a normal run",
    { concurrency: 2 },
    async (t) => {
      const refused = mutants.filter((m) => outcome.get(m.path) === "refused").slice(0, 2);
      const valid = mutants.filter((m) => outcome.get(m.path) === "valid").slice(0, 2);
      await Promise.all(
        [...refused, ...valid].map((m) =>
          t.test(basename(m.path), async () => {
            const out = outFor(basename(m.path));
            const run = await ebm(basename(m.path), [
              "sample",
              "--target",
              m.path,
              "--sampler",
              m.sampler,
              ...SHORT,
              "--out",
              out,
            ]);
            assertBounded(run);
            if (outcome.get(m.path) === "refused") {
              assertRefused(run, new RegExp(basename(m.path).replace(/\./g, "\\.")));
              assert.ok(!existsSync(join(out, "..")));
            } else if (run.code === 2) {
              // Valid but too big to run (a huge dim): refused by the memory estimate, naming dim.
              assertRefused(run, /memory.*dim/);
            } else {
              assert.equal(run.code, 0, run.stderr);
              const lines = run.stdout.trim().split("\n");
              const j = JSON.parse(lines[lines.length - 1]);
              assert.ok(Array.isArray(j.warnings));
              assert.match(readFileSync(out, "utf8"), /^chain,draw,x0/);
            }
          }),
        ),
      );
    },
  );
});

describe("measured", { skip: WASM_PASS_SKIP }, () => {
  test("slowest CLI case and peak memory", (t) => {
    const max = (key: "seconds" | "cpuSeconds" | "rssMiB") =>
      measured.reduce((a, b) => (b[key] > a[key] ? b : a));
    const wall = max("seconds");
    const cpu = max("cpuSeconds");
    const peak = max("rssMiB");
    t.diagnostic(
      `${measured.length} CLI runs; slowest ${wall.name} ${wall.seconds.toFixed(2)} s wall, ` +
        `most CPU ${cpu.name} ${cpu.cpuSeconds.toFixed(2)} s; peak RSS ${peak.rssMiB.toFixed(0)} MiB (${peak.name})`,
    );
    assert.ok(cpu.cpuSeconds < MAX_CPU_SECONDS);
    assert.ok(peak.rssMiB < MAX_RSS_MIB);
  });
});
