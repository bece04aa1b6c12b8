/**
 * The `ebm` command line. Commands call the library's public API only (src/node.ts).
 *
 * One error boundary for every command: user errors (bad options, files, outputs) print one line and exit
 * with code 2; numerical failures during a run (NumericalError) one line and code 3; anything else one
 * line starting "internal error" and code 1, with the stack only under --debug. A closed stdout (a pipe
 * into `head`) ends the process quietly.
 */
import { createRequire } from "node:module";
import { Command, CommanderError } from "commander";
import { NumericalError, OutputError, selectedBackend } from "../node.ts";
import { anomalyOptions } from "./commands/anomaly.ts";
import { runBench } from "./commands/bench.ts";
import { denoiseCommand } from "./commands/denoise.ts";
import { densityCommand } from "./commands/density.ts";
import { digitClassesOptions } from "./commands/digit-classes.ts";
import { divergenceCommand } from "./commands/divergence.ts";
import { evalCommand } from "./commands/eval.ts";
import { gmm1dOptions, runGmm1dCommand } from "./commands/gmm1d.ts";
import { gmm50dOptions, runGmm50dCommand } from "./commands/gmm50d.ts";
import { gebm2dOptions, runGebm2dCommand } from "./commands/gebm2d.ts";
import { gray2dOptions, runGray2dCommand } from "./commands/gray2d.ts";
import { logzCommand } from "./commands/logz.ts";
import { mmdFlowOptions, runMmdFlowCommand } from "./commands/mmd-flow.ts";
import { playgroundCommand } from "./commands/playground.ts";
import { rbmMnistOptions, runRbmMnistCommand } from "./commands/rbm-mnist.ts";
import { sampleCommand } from "./commands/sample.ts";
import { scoreCommand } from "./commands/score.ts";
import { runToy2dCommand, toy2dOptions } from "./commands/toy2d.ts";
import { trainCommand } from "./commands/train.ts";
import { UserError } from "./errors.ts";

const VERSION = (createRequire(import.meta.url)("../../package.json") as { version: string }).version;

function program(): Command {
  const root = new Command("ebm")
    .description("Energy-based models: define, sample, train and measure ρ = e^{−U}/Z.")
    .version(VERSION, "-V, --version", "print the version and exit")
    .option("--debug", "print the stack of internal errors")
    // Commander's own errors (unknown option, missing argument, unknown command) as our one line; every
    // subcommand inherits this.
    .configureOutput({
      outputError: (str, write) => write(`ebm: ${oneLine(str.trim())} (run with --help for usage)\n`),
    })
    .exitOverride();

  const reproduce = root.command("reproduce").description("reproduce an experiment of the seeds");
  gmm1dOptions(
    reproduce
      .command("gmm1d")
      .description(
        "learn the mode weight of a 1-D two-well energy with score matching, CD-1, PCD and Jarzynski SMC",
      ),
    "out/gmm1d",
  ).action(runGmm1dCommand);

  gmm50dOptions(
    reproduce
      .command("gmm50d")
      .description(
        "learn the mass of a mode of a 50-D two-Gaussian mixture with CD-1, PCD and Jarzynski SMC",
      ),
  ).action(runGmm50dCommand);

  rbmMnistOptions(
    reproduce
      .command("rbm-mnist")
      .description(
        "CD-k, PCD and Jarzynski training of an RBM, and a two-layer DBM, on binarised digits; test log-likelihood by AIS ± SE (DBM: lower bound)",
      ),
  ).action(runRbmMnistCommand);

  anomalyOptions(
    reproduce
      .command("anomaly")
      .description(
        "energies without Z: an RBM trained on some digit classes flags the others by free energy (ROC-AUC ± SE)",
      ),
  );

  digitClassesOptions(
    reproduce
      .command("digit-classes")
      .description(
        "a conditional EBM on the digit classes: the classification RBM (hybrid objective) vs logistic regression, class-conditional samples",
      ),
  );

  toy2dOptions(
    root
      .command("demo")
      .description(
        "run the main demonstration (the seed's 2-D figure, quick version: reproduce toy2d --quick) into out/demo",
      ),
    "out/demo",
    true,
  ).action(runToy2dCommand);

  toy2dOptions(
    reproduce
      .command("toy2d")
      .description(
        "seed 000's 2-D figure: CD, PCD and Jarzynski SMC on 2-D data sets, densities, KL and mode masses",
      ),
    "out/toy2d",
  ).action(runToy2dCommand);

  gray2dOptions(
    reproduce
      .command("gray2d")
      .description(
        "seed 000's figure 2: discrete EBMs (CD, PCD, Jarzynski SMC) on Gray-coded 2-D data, held-out NLL, MMD, mode masses",
      ),
    "out/gray2d",
  ).action(runGray2dCommand);

  mmdFlowOptions(
    reproduce
      .command("mmd-flow")
      .description(
        "the MMD gradient flow (Arbel et al. 2019) with and without noise injection on a student–teacher network: validation-loss curves, final loss ± SE over seeds",
      ),
    "out/mmd-flow",
  ).action(runMmdFlowCommand);

  gebm2dOptions(
    reproduce
      .command("gebm2d")
      .description(
        "seed 002's generalized EBMs: generator + energy trained by KALE on 2-D data; generator alone vs GEBM samples (MMD, mode masses, KL) over seeds",
      ),
    "out/gebm2d",
  ).action(runGebm2dCommand);

  sampleCommand(
    root
      .command("sample")
      .description(
        "draw from a target file or a trained model (--model) with an MCMC kernel and report diagnostics (ESS, R-hat, MCSE)",
      ),
  );

  trainCommand(
    root
      .command("train")
      .description(
        "fit an energy to data (CD, PCD, Jarzynski SMC, score matching, …) and write a checkpoint",
      ),
  );

  densityCommand(
    root
      .command("density")
      .description("a trained model's density on a grid (d ≤ 2), normalised on the grid, as CSV; grid log Z"),
  );

  logzCommand(
    root
      .command("logz")
      .description(
        "log Z of a trained model by SMC or AIS from its confinement Gaussian, ± SE over replicas",
      ),
  );

  scoreCommand(
    root
      .command("score")
      .description("the energy of every row of a data file under a trained model (free energy for an RBM)"),
  );

  evalCommand(
    root
      .command("eval")
      .description(
        "held-out evaluation of a trained model: log Z, NLL, MMD², and for 2-D sets KL and mode masses",
      ),
  );

  divergenceCommand(
    root
      .command("divergence")
      .description(
        "an f-divergence (KL, reverse KL, JS, χ², Hellinger, TV) or KALE between two samples, ± SE, by a fitted critic",
      ),
  );

  denoiseCommand(
    root
      .command("denoise")
      .description(
        "restore a black-and-white PNG under an Ising prior: Gibbs posterior marginals, ICM or mean field",
      ),
  );

  playgroundCommand(
    root
      .command("playground")
      .description(
        "the browser playground: train 2-D energies live (CD, PCD, Jarzynski, DSM, NCE) and run MCMC samplers with diagnostics on a local page; builds it if needed, and serves it cross-origin isolated so the WebAssembly kernels run on two threads",
      ),
  );

  root
    .command("bench")
    .description("time the named benchmark workloads (median and min over repeats, after warm-up)")
    .option("--only <names>", "comma-separated workload names (default: all)")
    .option("--list", "list the workloads and exit")
    .option("--json", "print one JSON object on the last line of stdout")
    .option("--compare <peer.json>", "add a column with the ratio to a PyTorch peer run (peer/run.sh output)")
    .option("--min-seconds <s>", "minimum timed seconds per workload", "2")
    .option(
      "--backend <name>",
      "auto, native, wasm, wasm-simd or typescript (default: EBM_BACKEND, else auto; in Chromium: auto)",
    )
    .option(
      "--threads <n>",
      "threads of the native backend (default: available cores); with --host chromium, 1 or 2 for the wasm-simd kernels (default 2: with their helper worker)",
    )
    .option(
      "--host <host>",
      "node, or chromium: time the core-only workloads in headless Chromium's Web Worker (needs /usr/bin/chromium)",
      "node",
    )
    .action(runBench);

  for (const cmd of [root, ...root.commands, ...reproduce.commands]) cmd.exitOverride();
  return root;
}

/** The first line of a message, with control characters (terminal escapes) shown as \xNN. */
function oneLine(message: string): string {
  let out = "";
  for (const ch of message.split("\n")[0]) {
    const c = ch.charCodeAt(0);
    out += c < 0x20 || (c >= 0x7f && c <= 0x9f) ? `\\x${c.toString(16).padStart(2, "0")}` : ch;
  }
  return out;
}

export async function main(argv: string[]): Promise<void> {
  // A reader that went away (`ebm sample … | head -1`) is not an error.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
  const debug = argv.includes("--debug");
  try {
    // A bad EBM_BACKEND (or an addon it asks for that is missing) is a user error, whether or not the
    // command would have reached a kernel.
    if (process.env.EBM_BACKEND) {
      try {
        selectedBackend();
      } catch (err) {
        throw new UserError((err as Error).message);
      }
    }
    await program().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its one-line message (or the help text).
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof UserError || err instanceof OutputError) {
      process.stderr.write(`ebm: error: ${oneLine(err.message)}\n`);
      process.exitCode = 2;
      return;
    }
    if (err instanceof NumericalError) {
      process.stderr.write(`ebm: numerical failure: ${oneLine(err.message)}\n`);
      process.exitCode = 3;
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(
      `ebm: internal error: ${oneLine(message)}${debug ? "" : " (run with --debug for the stack)"}\n`,
    );
    if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
  }
}
