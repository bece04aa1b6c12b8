/**
 * `ebm reproduce digit-classes`: a conditional EBM on the digit classes, the classification RBM trained
 * with the hybrid objective (src/experiments/digit-classes.ts). Prints the test accuracy ± SE against
 * multinomial logistic regression on the same pixels, and writes samples.png (one row of class-conditional
 * samples per digit), report.md (with the confusion matrix) and results.json.
 */
import type { Command } from "commander";
import {
  DIGIT_CLASSES_DEFAULTS,
  DIGIT_CLASSES_QUICK,
  type DigitClassesOptions,
  type DigitClassesResult,
  imageGridPng,
  loadDigits,
  runDigitClasses,
  validateDigitClassesOptions,
} from "../../node.ts";
import { parseInteger, parseNumber, parseSeed, printable, UserError } from "../errors.ts";
import { reportFolder, withProgress, writeReport } from "../report.ts";

interface RawDigitClassesOptions {
  quick?: boolean;
  hidden?: string;
  epochs?: string;
  alpha?: string;
  lr?: string;
  method?: string;
  k?: string;
  samples?: string;
  sweeps?: string;
  seed: string;
  out: string;
  json?: boolean;
  progress: boolean;
}

/** Option names of the library's messages, as the command line spells them. */
const FLAG_OF: Record<string, string> = {
  "samples-per-class": "--samples",
  "sample-sweeps": "--sweeps",
};

function parseOptions(raw: RawDigitClassesOptions): DigitClassesOptions {
  const o: DigitClassesOptions = { ...DIGIT_CLASSES_DEFAULTS, ...(raw.quick ? DIGIT_CLASSES_QUICK : {}) };
  if (raw.hidden !== undefined) o.hidden = parseInteger("--hidden", raw.hidden);
  if (raw.epochs !== undefined) o.epochs = parseInteger("--epochs", raw.epochs);
  if (raw.alpha !== undefined) o.alpha = parseNumber("--alpha", raw.alpha);
  if (raw.lr !== undefined) o.lr = parseNumber("--lr", raw.lr);
  if (raw.k !== undefined) o.k = parseInteger("--k", raw.k);
  if (raw.samples !== undefined) o.samplesPerClass = parseInteger("--samples", raw.samples);
  if (raw.sweeps !== undefined) o.sampleSweeps = parseInteger("--sweeps", raw.sweeps);
  if (raw.method !== undefined) {
    if (raw.method !== "cd" && raw.method !== "pcd")
      throw new UserError(`--method must be cd or pcd, got '${printable(raw.method)}'`);
    o.method = raw.method;
  }
  o.seed = parseSeed("--seed", raw.seed);
  // Sizes that would not fit in memory or finish in a day are refused before any work.
  if (o.hidden > 10_000) throw new UserError(`--hidden must be at most 10000, got '${raw.hidden}'`);
  if (o.samplesPerClass > 1000) throw new UserError(`--samples must be at most 1000, got '${raw.samples}'`);
  try {
    validateDigitClassesOptions(o);
  } catch (e) {
    const msg = (e as Error).message;
    const name = msg.split(" ")[0];
    throw new UserError(`${FLAG_OF[name] ?? `--${name}`}${msg.slice(name.length)}`);
  }
  return o;
}

const f = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : String(v));
const pm = (e: { value: number; se: number }, d = 3) => `${f(e.value, d)} ± ${f(e.se, d)}`;

function describe(r: DigitClassesResult): string {
  const o = r.options;
  const gen =
    o.alpha === 0
      ? "purely discriminative (α = 0)"
      : `hybrid −log p(y|v) + ${o.alpha}·(−log p(v, y)), generative term by ${o.method.toUpperCase()}-${o.k}` +
        (o.method === "pcd" ? ` (${o.chains} persistent chains)` : "");
  return (
    `Classification RBM 784×${o.hidden}×10, ${gen}, Adam ${o.lr}, ${o.epochs} epochs = ${r.iterations} updates of ${o.batch}, ` +
    `on ${r.trainDigits} training digits (binarised at 0.5), seed ${o.seed}; tested on ${r.testDigits} digits. ` +
    `Baseline: multinomial logistic regression on the same pixels, same optimiser, minibatches and updates. Data: ${r.split}.`
  );
}

function summary(r: DigitClassesResult, out: string): Record<string, unknown> {
  const clf = (c: DigitClassesResult["rbm"]) => ({
    accuracy: c.accuracy,
    cross_entropy: c.crossEntropy,
    recall: c.recall,
    confusion: c.confusion,
    seconds: c.seconds,
  });
  return {
    experiment: "digit-classes",
    out,
    options: r.options,
    split: r.split,
    train_digits: r.trainDigits,
    test_digits: r.testDigits,
    iterations: r.iterations,
    rbm: clf(r.rbm),
    baseline: clf(r.baseline),
    difference: r.difference,
    samples: {
      per_class: r.options.samplesPerClass,
      sweeps: r.options.sampleSweeps,
      agreement_rbm: r.samples.agreementRbm,
      agreement_baseline: r.samples.agreementBaseline,
      noise_start: {
        agreement_rbm: r.samples.noiseStart.agreementRbm,
        agreement_baseline: r.samples.noiseStart.agreementBaseline,
      },
      seconds: r.samples.seconds,
    },
  };
}

function confusionTable(c: number[][]): string[] {
  const head = `| true \\ predicted | ${c.map((_, k) => k).join(" | ")} |`;
  const rule = `|---|${c.map(() => "---").join("|")}|`;
  return [
    head,
    rule,
    ...c.map(
      (row, y) => `| **${y}** | ${row.map((v, k) => (k === y ? `**${v}**` : String(v))).join(" | ")} |`,
    ),
  ];
}

/** How many combined SEs apart the two starts' fractions are (logistic regression's judgement). */
function startGap(r: DigitClassesResult): number {
  const a = r.samples.agreementBaseline;
  const b = r.samples.noiseStart.agreementBaseline;
  const gap = Math.abs(a.value - b.value);
  const se = Math.sqrt(a.se ** 2 + b.se ** 2);
  // Fractions of 0 or 1 have SE 0: equal ones agree, different ones are far apart.
  return se > 0 ? gap / se : gap === 0 ? 0 : Number.POSITIVE_INFINITY;
}

function mixingSentence(r: DigitClassesResult): string {
  const z = startGap(r);
  if (z > 3)
    return (
      `The two starts differ by ${f(z, 1)} combined SE: the chains have not forgotten where they started ` +
      "(not mixed), so the picture shows p(v | y) only near its start."
    );
  if (z > 2)
    return `The two starts differ by ${f(z, 1)} combined SE: weak evidence of unmixed chains; more chains (--samples) would tell.`;
  return `The two starts agree within ${f(z, 1)} combined SE (consistent with mixed chains; not a proof).`;
}

function markdown(r: DigitClassesResult): string {
  const o = r.options;
  const lines = [
    "# A conditional EBM on the digit classes: the classification RBM",
    "",
    describe(r),
    "",
    "E(v, h, y) = −bᵀv − cᵀh − d_y − vᵀWh − hᵀU_y; p(y | v) = softmax_y(−F(v, y)) is exact over the 10 labels " +
      "(F(v, y) = −bᵀv − d_y − Σ_j softplus(c_j + U_jy + (vᵀW)_j)). Accuracy ± binomial SE, cross-entropy ± SE " +
      "over the test digits; the difference is paired (the same test digits), ± its SE.",
    "",
    "| model | test accuracy | test −log p(y\\|v) | training seconds |",
    "|---|---|---|---|",
    `| classification RBM | ${pm(r.rbm.accuracy, 4)} | ${pm(r.rbm.crossEntropy)} | ${f(r.rbm.seconds, 1)} |`,
    `| logistic regression | ${pm(r.baseline.accuracy, 4)} | ${pm(r.baseline.crossEntropy)} | ${f(r.baseline.seconds, 1)} |`,
    `| difference (RBM − logistic) | ${pm(r.difference, 4)} | | |`,
    "",
    "Recall per digit (RBM / logistic regression):",
    "",
    "| digit | test digits | RBM | logistic |",
    "|---|---|---|---|",
    ...r.rbm.recall.map(
      (c, y) => `| ${c.digit} | ${c.n} | ${pm(c.recall)} | ${pm(r.baseline.recall[y].recall)} |`,
    ),
    "",
    "Confusion matrix of the RBM (rows: true digit, columns: predicted):",
    "",
    ...confusionTable(r.rbm.confusion),
    "",
    "Confusion matrix of logistic regression:",
    "",
    ...confusionTable(r.baseline.confusion),
    "",
    `## Class-conditional samples`,
    "",
    `Row y: ${o.samplesPerClass} independent block-Gibbs chains of p(v, h | y) from the blank image v = 0, ` +
      `${o.sampleSweeps} sweeps each; each tile is p(v | h) of the last sweep. The last binary states, ` +
      "classified by the RBM itself and by logistic regression (an independent judge; chance 0.1), next to " +
      "the same number of chains started from pixel noise v ~ Bern(σ(b)):",
    "",
    "| start | assigned to their digit by the RBM | by logistic regression |",
    "|---|---|---|",
    `| blank image (shown) | ${pm(r.samples.agreementRbm)} | ${pm(r.samples.agreementBaseline)} |`,
    `| pixel noise | ${pm(r.samples.noiseStart.agreementRbm)} | ${pm(r.samples.noiseStart.agreementBaseline)} |`,
    "",
    mixingSentence(r) +
      (o.alpha === 0 ? " With α = 0 nothing in training shapes p(v | y): expect noise." : ""),
    "",
    "![class-conditional samples](samples.png)",
    "",
    "Raw numbers: `results.json`.",
    "",
  ];
  return lines.join("\n");
}

export async function runDigitClassesCommand(raw: RawDigitClassesOptions): Promise<void> {
  const o = parseOptions(raw);
  const outDir = reportFolder(raw.out);
  const split = loadDigits();
  const r = await withProgress(raw, (progress) =>
    runDigitClasses(split, o, (phase, done, total) => progress.update(phase, done, total)),
  );
  await writeReport(outDir, raw.json, {
    files: { "samples.png": imageGridPng(r.samples.means, { rows: 10, cols: o.samplesPerClass, scale: 2 }) },
    summary: summary(r, outDir),
    markdown: markdown(r),
    print() {
      console.log(`digit-classes: ${describe(r)}`);
      console.log(
        `  test accuracy  classification RBM ${pm(r.rbm.accuracy, 4)}   logistic regression ${pm(r.baseline.accuracy, 4)}`,
      );
      console.log(`  difference     ${pm(r.difference, 4)} (paired)`);
      console.log(
        `  samples        assigned to their digit by the RBM / logistic regression: from a blank image ${pm(r.samples.agreementRbm)} / ${pm(r.samples.agreementBaseline)}, ` +
          `from pixel noise ${pm(r.samples.noiseStart.agreementRbm)} / ${pm(r.samples.noiseStart.agreementBaseline)}`,
      );
      if (startGap(r) > 3) console.log(`  warning: ${mixingSentence(r)}`);
    },
  });
}

export function digitClassesOptions(cmd: Command): Command {
  const d = DIGIT_CLASSES_DEFAULTS;
  const q = DIGIT_CLASSES_QUICK;
  return cmd
    .option(
      "--quick",
      `${q.hidden} hidden units, ${q.epochs} epochs, ${q.sampleSweeps} sample sweeps (seconds)`,
    )
    .option("--hidden <n>", `hidden units (default ${d.hidden})`)
    .option("--epochs <n>", `passes over the training digits (default ${d.epochs})`)
    .option(
      "--alpha <a>",
      `weight of the generative term −log p(v, y); 0: discriminative (default ${d.alpha})`,
    )
    .option("--lr <rate>", `Adam learning rate of both models (default ${d.lr})`)
    .option(
      "--method <name>",
      `generative term by cd or pcd (${d.chains} persistent chains) (default ${d.method})`,
    )
    .option("--k <n>", `Gibbs sweeps per update of the generative term (default ${d.k})`)
    .option("--samples <n>", `class-conditional sample chains per digit (default ${d.samplesPerClass})`)
    .option("--sweeps <n>", `Gibbs sweeps of each sample chain (default ${d.sampleSweeps})`)
    .option("--seed <n>", "random seed", "0")
    .option("--out <dir>", "report folder", "out/digit-classes")
    .option("--json", "print the results as one JSON object on the last line of stdout")
    .option("--no-progress", "do not show a progress bar")
    .action(runDigitClassesCommand);
}
