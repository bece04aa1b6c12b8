/**
 * `ebm denoise --image IN.png --out OUT.png [--method gibbs|icm|meanfield]`: restores a black-and-white
 * image under an Ising prior (src/experiments/denoise.ts): the posterior
 * U(s) = −J Σ_⟨ij⟩ s_i s_j − h Σ_i s_i y_i, estimated by Gibbs sampling (posterior marginals, thresholded),
 * iterated conditional modes or damped mean field. The input is thresholded at 50% luminance
 * (src/io/png.ts); the output is a black-and-white PNG, written atomically once the work is done.
 *
 * `--noise p` first flips exactly round(p·N) pixels (seeded), to try the method on any clean image;
 * `--truth FILE.png` reports the error rates before and after against a clean image of the same size
 * (with `--noise` and no `--truth`, against the clean input).
 * Every option and file is checked before any work: a problem is one line naming it, exit code 2, and
 * nothing is written.
 */
import type { Command } from "commander";
import {
  type BinaryImage,
  checkOutputFile,
  DENOISE_DEFAULTS,
  DENOISE_METHODS,
  type DenoiseMethod,
  denoise,
  flipPixels,
  foldIn,
  ImageFileError,
  keyFromSeed,
  OutputError,
  pixelErrorRate,
  pixelsDiffering,
  readBinaryPng,
  writeBinaryPng,
} from "../../node.ts";
import { parseIntegerInRange, parseNumber, parseSeed, printable, UserError } from "../errors.ts";

interface RawDenoiseOptions {
  image?: string;
  out?: string;
  method: string;
  coupling: string;
  fidelity: string;
  sweeps?: string;
  seed: string;
  noise?: string;
  truth?: string;
  json?: boolean;
}

/** Streams of the run: the noise and the Gibbs chain never share one. */
const NOISE_STREAM = 0x6e6f6973;
const CHAIN_STREAM = 0x63686169;

function parseNonNegative(name: string, value: string): number {
  const v = parseNumber(name, value);
  if (v < 0) throw new UserError(`${name} must be ≥ 0, got '${value}'`);
  return v;
}

function readImage(option: string, path: string): BinaryImage {
  try {
    return readBinaryPng(path);
  } catch (err) {
    if (err instanceof ImageFileError) throw new UserError(`${option}: ${err.message}`);
    throw err;
  }
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

export async function runDenoiseCommand(raw: RawDenoiseOptions): Promise<void> {
  if (raw.image === undefined) throw new UserError("--image IN.png is required");
  if (raw.out === undefined) throw new UserError("--out OUT.png is required");
  if (!(DENOISE_METHODS as readonly string[]).includes(raw.method))
    throw new UserError(
      `--method must be one of ${DENOISE_METHODS.join(", ")}, got '${printable(raw.method)}'`,
    );
  const method = raw.method as DenoiseMethod;
  const coupling = parseNonNegative("--coupling", raw.coupling);
  const fidelity = parseNonNegative("--fidelity", raw.fidelity);
  const sweeps =
    raw.sweeps === undefined
      ? DENOISE_DEFAULTS.sweeps[method]
      : parseIntegerInRange("--sweeps", raw.sweeps, 1, 1_000_000);
  const seed = parseSeed("--seed", raw.seed);
  let noise: number | undefined;
  if (raw.noise !== undefined) {
    noise = parseNumber("--noise", raw.noise);
    if (!(noise >= 0 && noise < 0.5)) throw new UserError(`--noise must be in [0, 0.5), got '${raw.noise}'`);
  }
  if (!/\.png$/i.test(raw.out)) throw new UserError(`--out must end in .png, got '${printable(raw.out)}'`);
  try {
    checkOutputFile(raw.out);
  } catch (err) {
    if (err instanceof OutputError) throw new UserError(`--out: ${err.message}`);
    throw err;
  }

  const image = readImage("--image", raw.image);
  // With --noise the input is the clean image: it is the truth unless --truth names another.
  let truth: BinaryImage | undefined = noise !== undefined ? image : undefined;
  const truthPath = raw.truth ?? (noise !== undefined ? raw.image : undefined);
  if (raw.truth !== undefined) {
    truth = readImage("--truth", raw.truth);
    if (truth.rows !== image.rows || truth.cols !== image.cols)
      throw new UserError(
        `--truth: ${printable(raw.truth)} is ${truth.cols}×${truth.rows} pixels, --image is ${image.cols}×${image.rows}`,
      );
  }

  const key = keyFromSeed(seed);
  const noisy = noise === undefined ? image : flipPixels(foldIn(key, NOISE_STREAM), image, noise);
  const start = performance.now();
  const result = denoise(noisy, { method, coupling, fidelity, sweeps, key: foldIn(key, CHAIN_STREAM) });
  const seconds = (performance.now() - start) / 1000;
  try {
    writeBinaryPng(raw.out, { rows: image.rows, cols: image.cols, pixels: result.pixels });
  } catch (err) {
    if (err instanceof OutputError) throw new UserError(`--out: ${err.message}`);
    throw err;
  }

  const n = image.rows * image.cols;
  const changed = pixelsDiffering(result.pixels, noisy.pixels);
  const errors = truth
    ? {
        before: pixelErrorRate(noisy.pixels, truth.pixels),
        after: pixelErrorRate(result.pixels, truth.pixels),
      }
    : undefined;
  if (raw.json) {
    console.log(
      JSON.stringify({
        method,
        image: raw.image,
        out: raw.out,
        width: image.cols,
        height: image.rows,
        coupling,
        fidelity,
        sweeps: result.sweeps,
        converged: result.converged,
        pixels_changed: changed,
        energy: result.energy,
        seconds: Number(seconds.toFixed(4)),
        seed,
        ...(noise !== undefined
          ? { noise, pixels_flipped: pixelsDiffering(noisy.pixels, image.pixels) }
          : {}),
        ...(errors ? { truth: truthPath, error_before: errors.before, error_after: errors.after } : {}),
      }),
    );
    return;
  }
  const lines = [
    `${printable(raw.image)}: ${image.cols}×${image.rows} pixels` +
      (noise !== undefined
        ? `, ${pixelsDiffering(noisy.pixels, image.pixels)} flipped (--noise ${noise}, seed ${seed})`
        : ""),
    `${method}: J = ${coupling}, h = ${fidelity}, ${result.sweeps} sweeps` +
      (method === "gibbs" ? ` (seed ${seed})` : result.converged ? " (converged)" : " (not converged)") +
      ` in ${seconds.toFixed(2)} s`,
    `  pixels changed ${changed} of ${n} (${pct(changed / n)}), posterior energy ${result.energy.toFixed(1)}`,
    ...(errors
      ? [`  error rate against ${printable(truthPath ?? "")}: ${pct(errors.before)} → ${pct(errors.after)}`]
      : []),
    `written to ${printable(raw.out, 1000)}`,
  ];
  console.log(lines.join("\n"));
}

export function denoiseCommand(cmd: Command): Command {
  return cmd
    .option("--image <in.png>", "noisy image (PNG: grey, RGB or RGBA; luminance ≥ 50% over white is white)")
    .option("--out <out.png>", "restored black-and-white PNG; checked before any work, written atomically")
    .option(
      "--method <name>",
      "gibbs (posterior sampling, marginals thresholded: MPM), icm (iterated conditional modes, deterministic) or meanfield (damped mean field)",
      "gibbs",
    )
    .option(
      "--coupling <J>",
      "prior coupling J ≥ 0: how strongly neighbouring pixels agree; 1 is well above the critical 0.44, so isolated flipped pixels are undone while edges backed by the data stay",
      String(DENOISE_DEFAULTS.coupling),
    )
    .option(
      "--fidelity <h>",
      "data term h ≥ 0; for flip noise of rate p the likelihood gives h = ½ ln((1−p)/p), and the default 1.1 ≈ ½ ln 9 matches 10% noise",
      String(DENOISE_DEFAULTS.fidelity),
    )
    .option(
      "--sweeps <n>",
      `sweeps over the image (default: gibbs ${DENOISE_DEFAULTS.sweeps.gibbs}, the first fifth discarded as burn-in; icm ${DENOISE_DEFAULTS.sweeps.icm} and meanfield ${DENOISE_DEFAULTS.sweeps.meanfield} at most, stopping when converged)`,
    )
    .option("--seed <n>", "random seed of --noise and of the gibbs chain", "0")
    .option(
      "--noise <p>",
      "first flip exactly round(p·N) pixels chosen at random (seeded), 0 ≤ p < 0.5; the error rates are then reported against the clean input",
    )
    .option("--truth <clean.png>", "clean image of the same size: report the error rate before and after")
    .option("--json", "print one JSON object on the last line of stdout")
    .action(runDenoiseCommand);
}
