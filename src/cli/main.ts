/**
 * The `ebm` command line. Commands call the library's public API only (src/index.ts). User errors
 * print one line and exit with code 2; unexpected failures print the error and exit with code 1.
 */
import { Command, CommanderError } from "commander";
import { runBench } from "./commands/bench.ts";
import { gmm1dOptions, runGmm1dCommand } from "./commands/gmm1d.ts";
import { sampleCommand } from "./commands/sample.ts";
import { UserError } from "./errors.ts";

function program(): Command {
  const root = new Command("ebm")
    .description("Energy-based models: define, sample, train and measure ρ = e^{−U}/Z.")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();

  gmm1dOptions(
    root
      .command("demo")
      .description("run the main demonstration (the seed's 1-D experiment) and write its report to out/demo"),
    "out/demo",
  ).action(runGmm1dCommand);

  const reproduce = root.command("reproduce").description("reproduce an experiment of the seeds");
  gmm1dOptions(
    reproduce
      .command("gmm1d")
      .description(
        "learn the mode weight of a 1-D two-well energy with score matching, CD-1, PCD and Jarzynski SMC",
      ),
    "out/gmm1d",
  ).action(runGmm1dCommand);

  sampleCommand(
    root
      .command("sample")
      .description("draw from a target file with an MCMC kernel and report diagnostics (ESS, R-hat, MCSE)"),
  );

  root
    .command("bench")
    .description("time the named benchmark workloads (median and min over repeats, after warm-up)")
    .option("--only <names>", "comma-separated workload names (default: all)")
    .option("--list", "list the workloads and exit")
    .option("--json", "print one JSON object on the last line of stdout")
    .option("--compare <peer.json>", "add a column with the ratio to a PyTorch peer run (peer/run.sh output)")
    .option("--min-seconds <s>", "minimum timed seconds per workload", "2")
    .option("--backend <name>", "native or wasm (default: EBM_BACKEND, else native when built)")
    .option("--threads <n>", "threads of the native backend (default: available cores)")
    .action(runBench);

  for (const cmd of [root, ...root.commands, ...reproduce.commands]) cmd.exitOverride();
  return root;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its one-line message (or the help text).
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof UserError) {
      process.stderr.write(`ebm: error: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`ebm: internal error: ${err instanceof Error ? (err.stack ?? err.message) : err}\n`);
    process.exitCode = 1;
  }
}
