/**
 * `ebm reproduce anomaly`: an RBM trained on some digit classes scores every test digit by its free
 * energy, no partition function needed (src/experiments/anomaly.ts). Writes roc.png/.svg (ROC curves of the
 * RBM and of the independent-pixel baseline), filters.png (the first 64 hidden units' weights),
 * report.md and results.json; prints the ROC-AUC per held-out class and pooled, each ± its SE.
 */
import type { Command } from "commander";
import {
  ANOMALY_DEFAULTS,
  ANOMALY_QUICK,
  type AnomalyOptions,
  type AnomalyResult,
  DIGIT_PIXELS,
  imageGridPng,
  lineChart,
  loadDigits,
  runAnomalyExperiment,
  validateAnomalyOptions,
  weightFilters,
} from "../../node.ts";
import { parseInteger, parseNumber, parseNumberList, parseSeed, printable, UserError } from "../errors.ts";
import { reportFolder, withProgress, writeReport } from "../report.ts";

interface RawAnomalyOptions {
  quick?: boolean;
  normal?: string;
  hidden?: string;
  epochs?: string;
  method?: string;
  k?: string;
  lr?: string;
  seed: string;
  out: string;
  json?: boolean;
  progress: boolean;
}

function parseOptions(raw: RawAnomalyOptions): AnomalyOptions {
  const o: AnomalyOptions = { ...ANOMALY_DEFAULTS, ...(raw.quick ? ANOMALY_QUICK : {}) };
  if (raw.normal !== undefined) o.normalClasses = parseNumberList("--normal", raw.normal);
  if (raw.hidden !== undefined) o.hidden = parseInteger("--hidden", raw.hidden);
  if (raw.epochs !== undefined) o.epochs = parseInteger("--epochs", raw.epochs);
  if (raw.k !== undefined) o.k = parseInteger("--k", raw.k);
  if (raw.lr !== undefined) o.lr = parseNumber("--lr", raw.lr);
  if (raw.method !== undefined) {
    if (raw.method !== "cd" && raw.method !== "pcd")
      throw new UserError(`--method must be cd or pcd, got '${printable(raw.method)}'`);
    o.method = raw.method;
  }
  o.seed = parseSeed("--seed", raw.seed);
  try {
    validateAnomalyOptions(o);
  } catch (e) {
    const msg = (e as Error).message;
    throw new UserError(msg.startsWith("normal") ? `--normal: ${msg}` : `--${msg}`);
  }
  return o;
}

const f = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : String(v));
const pm = (a: { auc: number; se: number }) => `${f(a.auc)} ± ${f(a.se)}`;

function describe(r: AnomalyResult): string {
  const o = r.options;
  return (
    `RBM 784×${o.hidden} trained by ${o.method.toUpperCase()}-${o.k} (Adam ${o.lr}, ${o.epochs} epochs = ${r.iterations} updates of ${o.batch}) ` +
    `on the ${r.trainDigits} training digits of classes ${o.normalClasses.join(", ")} (binarised at 0.5), seed ${o.seed}. ` +
    `Test: ${r.normalTest} digits of those classes against ${r.anomalyTest} of the others. Data: ${r.split}.`
  );
}

function summary(r: AnomalyResult, out: string): Record<string, unknown> {
  return {
    experiment: "anomaly",
    out,
    options: r.options,
    split: r.split,
    train_digits: r.trainDigits,
    normal_test: r.normalTest,
    anomaly_test: r.anomalyTest,
    iterations: r.iterations,
    seconds: r.seconds,
    pooled: r.pooled,
    per_class: r.perClass,
    mean_free_energy: r.meanFreeEnergy,
  };
}

function markdown(r: AnomalyResult): string {
  const lines = [
    "# Anomaly detection with an energy, no partition function (digits)",
    "",
    describe(r),
    "",
    "Score: the RBM's free energy F(v) (log p(v) = −F(v) − log Z, one Z for all digits, so the ranking needs no Z). " +
      "Baseline: the negative log-likelihood under independent pixels fitted to the same training digits. " +
      "ROC-AUC = P(an anomalous digit scores higher than a normal one), ± the Hanley–McNeil SE.",
    "",
    "![ROC curves](roc.png)",
    "",
    "| anomalies | test digits | RBM free energy | independent pixels |",
    "|---|---|---|---|",
    ...r.perClass.map((c) => `| digit ${c.digit} | ${c.n} | ${pm(c.rbm)} | ${pm(c.baseline)} |`),
    `| all | ${r.anomalyTest} | ${pm(r.pooled.rbm)} | ${pm(r.pooled.baseline)} |`,
    "",
    `Mean free energy (nats, up to the common log Z): normal test digits ${f(r.meanFreeEnergy.normal, 1)}, anomalous ${f(r.meanFreeEnergy.anomalous, 1)}.`,
    "",
    "Filters (the first 64 hidden units' weights, each scaled to its own range): ![filters](filters.png)",
    "",
    "Raw numbers: `results.json`.",
    "",
  ];
  return lines.join("\n");
}

export async function runAnomalyCommand(raw: RawAnomalyOptions): Promise<void> {
  const o = parseOptions(raw);
  const outDir = reportFolder(raw.out);
  const split = loadDigits();
  const r = await withProgress(raw, (progress) =>
    runAnomalyExperiment(split, o, (done, total) => progress.update("RBM", done, total)),
  );
  const curve = (name: string, pts: { fpr: number; tpr: number }[]) => ({
    name,
    points: pts.map((p) => ({ x: p.fpr, y: p.tpr })),
  });
  const shown = Math.min(64, o.hidden);
  const filters = weightFilters(r.weights, DIGIT_PIXELS, o.hidden).subarray(0, shown * DIGIT_PIXELS);
  await writeReport(outDir, raw.json, {
    figure: {
      name: "roc",
      spec: lineChart({
        title: `Digits ${o.normalClasses.join(",")} vs the rest: ROC of the energy scores`,
        x: { field: "false positive rate", domain: [0, 1] },
        y: { field: "true positive rate", domain: [0, 1] },
        series: [
          curve(`RBM free energy (AUC ${f(r.pooled.rbm.auc)})`, r.curves.rbm),
          curve(`independent pixels (AUC ${f(r.pooled.baseline.auc)})`, r.curves.baseline),
          {
            name: "chance",
            points: [
              { x: 0, y: 0 },
              { x: 1, y: 1 },
            ],
            dash: true,
          },
        ],
        width: 360,
        height: 300,
      }),
    },
    files: { "filters.png": imageGridPng(filters, { scale: 2 }) },
    summary: summary(r, outDir),
    markdown: markdown(r),
    print() {
      console.log(`anomaly: ${describe(r)}`);
      console.log("  ROC-AUC, RBM free energy vs independent pixels (± SE):");
      for (const c of r.perClass)
        console.log(`    digit ${c.digit} (${c.n})  ${pm(c.rbm)}   vs ${pm(c.baseline)}`);
      console.log(`    all (${r.anomalyTest})  ${pm(r.pooled.rbm)}   vs ${pm(r.pooled.baseline)}`);
    },
  });
}

export function anomalyOptions(cmd: Command): Command {
  const d = ANOMALY_DEFAULTS;
  return cmd
    .option("--quick", `a ${ANOMALY_QUICK.hidden}-unit RBM, ${ANOMALY_QUICK.epochs} epochs (seconds)`)
    .option(
      "--normal <digits>",
      `classes to train on; the rest are anomalies (default ${d.normalClasses.join(",")})`,
    )
    .option("--hidden <n>", `hidden units (default ${d.hidden})`)
    .option("--epochs <n>", `passes over the training digits (default ${d.epochs})`)
    .option("--method <name>", `cd or pcd (${d.chains} persistent chains) (default ${d.method})`)
    .option("--k <n>", `Gibbs sweeps per update (default ${d.k})`)
    .option("--lr <rate>", `Adam learning rate (default ${d.lr})`)
    .option("--seed <n>", "random seed", "0")
    .option("--out <dir>", "report folder", "out/anomaly")
    .option("--json", "print the results as one JSON object on the last line of stdout")
    .option("--no-progress", "do not show a progress bar")
    .action(runAnomalyCommand);
}
