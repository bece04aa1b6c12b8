/**
 * `ebm denoise` as a user runs it: a clean 64×64 PNG with --noise 0.1 is restored (the JSON line reports
 * the error rates, and the written PNG has the reported error), the same seed gives the same file in text
 * and JSON mode, and bad input stops with one line naming the file or option, exit code 2, nothing written.
 *
 * The first restoration and the first refusal are child processes (the refusal also run in-process, which
 * must print the same); the rest go through the CLI in-process (./in-process.ts).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { pixelErrorRate } from "../../src/experiments/denoise.ts";
import { readBinaryPng, writeBinaryPng } from "../../src/io/png.ts";
import { shapesImage } from "../experiments/denoise-image.ts";
import { WASM_PASS_SKIP } from "../helpers.ts";
import { ebmBothWays, ebmInProcess, ebmProcess as ebm } from "./in-process.ts";

const BIN = join(import.meta.dirname, "..", "..", "bin", "ebm.js");

const tmp = mkdtempSync(join(tmpdir(), "ebm-denoise-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
const clean = shapesImage(64, 64);
const cleanPng = join(tmp, "clean.png");
writeBinaryPng(cleanPng, clean);

describe("ebm denoise", { skip: WASM_PASS_SKIP }, () => {
  test("icm on the clean image with --noise 0.1: JSON last line, error 10% → below 2.5%, PNG written", () => {
    const out = join(tmp, "icm.png");
    const r = ebm(
      "denoise",
      "--image",
      cleanPng,
      "--out",
      out,
      "--method",
      "icm",
      "--noise",
      "0.1",
      "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout.trim().split("\n").at(-1) as string);
    assert.equal(res.method, "icm");
    assert.equal(res.pixels_flipped, 410);
    assert.equal(res.error_before, 410 / 4096);
    assert.ok(res.error_after < 0.025, `error after ${res.error_after}`);
    assert.ok(res.converged);
    assert.ok(res.sweeps >= 1 && res.seconds >= 0);
    const restored = readBinaryPng(out);
    assert.equal(restored.rows, 64);
    assert.equal(pixelErrorRate(restored.pixels, clean.pixels), res.error_after);
  });

  test("gibbs with --truth: the same seed writes the same file in text and JSON mode", async () => {
    const noisyPng = join(tmp, "noisy.png");
    // ICM without a prior returns its input: this writes the noisy image.
    const prep = await ebmInProcess(
      "denoise",
      "--image",
      cleanPng,
      "--out",
      noisyPng,
      "--noise",
      "0.1",
      "--method",
      "icm",
      "--coupling",
      "0",
    );
    assert.equal(prep.code, 0, prep.stderr);
    const [a, b] = [join(tmp, "a.png"), join(tmp, "b.png")];
    const common = [
      "--image",
      noisyPng,
      "--truth",
      cleanPng,
      "--method",
      "gibbs",
      "--seed",
      "3",
      "--sweeps",
      "60",
    ];
    const text = await ebmInProcess("denoise", ...common, "--out", a);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /error rate against .*clean\.png: 10\.\d\d% → [0-2]\.\d\d%/);
    const json = await ebmInProcess("denoise", ...common, "--out", b, "--json");
    assert.equal(json.code, 0, json.stderr);
    const res = JSON.parse(json.stdout.trim().split("\n").at(-1) as string);
    assert.ok(res.error_before > 0.09 && res.error_after < 0.025, JSON.stringify(res));
    assert.equal(res.sweeps, 60);
    assert.deepEqual(readFileSync(a), readFileSync(b));
  });

  const bad: [string, string[], RegExp][] = [
    ["a missing image", ["--image", join(tmp, "nope.png")], /--image: .*nope\.png: no such file/],
    ["a file that is not a PNG", ["--image", BIN], /--image: .*ebm\.js: not a PNG file/],
    [
      "an unknown method",
      ["--image", cleanPng, "--method", "annealing"],
      /--method must be one of gibbs, icm, meanfield/,
    ],
    ["noise ≥ 0.5", ["--image", cleanPng, "--noise", "0.5"], /--noise must be in \[0, 0\.5\)/],
    [
      "a truth of another size",
      ["--image", cleanPng, "--truth", join(tmp, "small.png")],
      /--truth: .*small\.png is 8×8/,
    ],
  ];
  for (const [i, [what, args, pattern]] of bad.entries())
    test(`${what}: one line naming it, exit code 2, nothing written`, async () => {
      writeBinaryPng(join(tmp, "small.png"), shapesImage(8, 8));
      const out = join(tmp, `bad-${what.replace(/\W+/g, "_")}.png`);
      const r = await (i === 0 ? ebmBothWays : ebmInProcess)("denoise", ...args, "--out", out);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.equal(existsSync(out), false);
    });
});
