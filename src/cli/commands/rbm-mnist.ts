/**
 * `ebm reproduce rbm-mnist`: CD-k, PCD-k and Jarzynski training of a 784 × H RBM on the binarised digits,
 * and a two-layer 784 × H1 × H2 DBM (method "dbm": greedy pretraining, then joint mean-field/PCD training),
 * compared by test log-likelihood (AIS from the base-rate model ± SE over replicas; exact when H is small;
 * for the DBM the mean-field lower bound) — src/experiments/rbm-mnist.ts. Writes into --out: report.md,
 * results.json, rbm-mnist.png/.svg (test log-likelihood over training, per method), data.png,
 * samples-<method>.png and filters-<method>.png, each atomically. `--quick`: H = 16 and a 12 × 8 DBM, 200
 * updates per phase, exact log Z checks AIS; under a minute.
 */
import type { Command } from "commander";
import {
  DIGIT_SIDE,
  imageGridPng,
  lineChart,
  loadDigits,
  RBM_MNIST_DEFAULTS,
  RBM_MNIST_METHODS,
  RBM_MNIST_QUICK,
  type DbmLikelihood,
  type RbmLikelihood,
  type RbmMnistMethod,
  type RbmMnistOptions,
  type RbmMnistResult,
  runRbmMnist,
  validateRbmMnistOptions,
} from "../../node.ts";
import { parseInteger, parseNumber, parseSeed, printable, UserError } from "../errors.ts";
import { reportFolder, withProgress, writeReport } from "../report.ts";

interface RawRbmMnistOptions {
  quick?: boolean;
  hidden?: string;
  epochs?: string;
  methods?: string;
  k?: string;
  lr?: string;
  jarzynskiLr?: string;
  momentum?: string;
  walkers?: string;
  betas?: string;
  chains?: string;
  replicas?: string;
  dbmHidden?: string;
  dbmPretrainEpochs?: string;
  dbmEpochs?: string;
  dbmLr?: string;
  dbmBetas?: string;
  seed?: string;
  out: string;
  json?: boolean;
  progress: boolean;
}

function parseOptions(raw: RawRbmMnistOptions): RbmMnistOptions {
  const o: RbmMnistOptions = { ...(raw.quick ? RBM_MNIST_QUICK : RBM_MNIST_DEFAULTS) };
  if (raw.methods !== undefined) {
    const methods = raw.methods.split(",").map((s) => s.trim());
    for (const m of methods)
      if (!(RBM_MNIST_METHODS as readonly string[]).includes(m))
        throw new UserError(
          `--methods: unknown method '${printable(m)}' (choose from ${RBM_MNIST_METHODS.join(", ")})`,
        );
    o.methods = [...new Set(methods)] as RbmMnistMethod[];
  }
  if (raw.hidden !== undefined) o.hidden = parseInteger("--hidden", raw.hidden);
  if (raw.epochs !== undefined) {
    o.epochs = parseInteger("--epochs", raw.epochs);
    o.maxIters = 0;
  }
  if (raw.k !== undefined) o.k = parseInteger("--k", raw.k);
  if (raw.lr !== undefined) o.lr = parseNumber("--lr", raw.lr);
  if (raw.jarzynskiLr !== undefined) o.jarzynskiLr = parseNumber("--jarzynski-lr", raw.jarzynskiLr);
  if (raw.momentum !== undefined) o.momentum = parseNumber("--momentum", raw.momentum);
  if (raw.walkers !== undefined) o.jarzynskiWalkers = parseInteger("--walkers", raw.walkers, 2);
  if (raw.betas !== undefined) o.aisBetas = parseInteger("--betas", raw.betas, 2);
  if (raw.chains !== undefined) o.aisChains = parseInteger("--chains", raw.chains, 2);
  if (raw.replicas !== undefined) o.aisReplicas = parseInteger("--replicas", raw.replicas, 2);
  if (raw.dbmHidden !== undefined) {
    const parts = raw.dbmHidden.split(",");
    if (parts.length !== 2)
      throw new UserError(
        `--dbm-hidden needs two comma-separated sizes H1,H2, got '${printable(raw.dbmHidden)}'`,
      );
    o.dbmHidden = [parseInteger("--dbm-hidden H1", parts[0]), parseInteger("--dbm-hidden H2", parts[1])];
    for (const h of o.dbmHidden)
      if (h > 4096) throw new UserError(`--dbm-hidden sizes must be at most 4096, got ${h}`);
  }
  if (raw.dbmPretrainEpochs !== undefined) {
    o.dbmPretrainEpochs = parseInteger("--dbm-pretrain-epochs", raw.dbmPretrainEpochs);
    o.dbmMaxIters = 0;
  }
  if (raw.dbmEpochs !== undefined) {
    o.dbmEpochs = parseInteger("--dbm-epochs", raw.dbmEpochs);
    o.dbmMaxIters = 0;
  }
  if (raw.dbmLr !== undefined) o.dbmLr = parseNumber("--dbm-lr", raw.dbmLr);
  if (raw.dbmBetas !== undefined) o.dbmAisBetas = parseInteger("--dbm-betas", raw.dbmBetas, 2);
  if (raw.seed !== undefined) o.seed = parseSeed("--seed", raw.seed);
  if (o.hidden > 65536) throw new UserError(`--hidden must be at most 65536, got ${o.hidden}`);
  try {
    validateRbmMnistOptions(o);
  } catch (e) {
    throw new UserError(`--${(e as Error).message}`);
  }
  return o;
}

const f = (v: number | undefined, d = 2) => (v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(d));
const pm = (v: number, se: number, d = 2) =>
  Number.isFinite(se) ? `${f(v, d)} ± ${f(se, d)}` : `${f(v, d)} (no SE)`;

const isDbm = (l: RbmLikelihood): l is DbmLikelihood => "meanFieldConverged" in l;

function likelihoodJson(l: RbmLikelihood): Record<string, unknown> {
  const dbm = isDbm(l);
  return {
    test_ll_kind: dbm ? "lower bound (mean field, log Z by AIS)" : "estimate (log Z by AIS)",
    test_ll: l.testLL,
    test_ll_se: l.testLLSe,
    train_ll: l.trainLL,
    logz: l.logZ,
    logz_se: l.logZSe,
    ais_values: l.aisValues,
    ais_ess: l.aisEss,
    test_sampling_se: l.testSamplingSe,
    ...(l.logZExact !== undefined
      ? { logz_exact: l.logZExact, test_ll_exact: l.testLLExact, ais_minus_exact_z: l.z }
      : {}),
    ...(dbm
      ? {
          ...(l.testBoundExact !== undefined ? { test_bound_exact_logz: l.testBoundExact } : {}),
          mean_field_converged: l.meanFieldConverged,
          mean_field_max_iterations: l.meanFieldMaxIterations,
        }
      : {}),
  };
}

function summary(r: RbmMnistResult, out: string): Record<string, unknown> {
  return {
    experiment: "rbm-mnist",
    out,
    split: r.split,
    binarization: r.binarization,
    n_train: r.nTrain,
    n_test: r.nTest,
    updates_per_epoch: r.updatesPerEpoch,
    iterations: r.iterations,
    options: r.options,
    base_rate_test_ll: r.baseRateTestLL,
    untrained: r.untrained ? likelihoodJson(r.untrained) : null,
    methods: Object.fromEntries(
      r.methods.map((m) => [
        m.method,
        {
          label: m.label,
          model: m.dbm ? "dbm" : "rbm",
          hidden: m.dbm ? [m.dbm.hidden1, m.dbm.hidden2] : [r.options.hidden],
          iterations: m.iterations,
          ...likelihoodJson(m.final),
          curve: m.curve,
          ...(m.method === "jarzynski"
            ? {
                walker_logz: m.walkerLogZ,
                walker_logz_se: m.walkerLogZSe,
                estimator_logz: m.estimatorLogZ ?? null,
                estimator_logz_se: m.estimatorLogZSe ?? null,
                final_ess: m.ess,
                resamplings: m.resamplings,
              }
            : {}),
          ...(m.dbm
            ? {
                pretrain_iterations: m.dbm.pretrainIterations,
                joint_iterations: m.dbm.jointIterations,
                untrained: likelihoodJson(m.dbm.untrained),
                pretrained: likelihoodJson(m.dbm.pretrained),
                pretrain_seconds: m.dbm.pretrainSeconds,
              }
            : {}),
          train_seconds: m.trainSeconds,
          eval_seconds: m.evalSeconds,
        },
      ]),
    ),
  };
}

function markdown(r: RbmMnistResult): string {
  const o = r.options;
  const rbms = r.methods.filter((m) => m.dbm === undefined);
  const dbmRun = r.methods.find((m) => m.dbm !== undefined);
  const d = dbmRun?.dbm;
  const exact = r.untrained?.logZExact !== undefined || d?.final.logZExact !== undefined;
  const dbmSize = d ? `784 × ${d.hidden1} × ${d.hidden2}` : "";
  const title =
    rbms.length > 0
      ? `# RBMs on binarised digits: CD, PCD and Jarzynski (784 × ${o.hidden})` +
        (d ? `, and a two-layer DBM (${dbmSize})` : "")
      : `# A two-layer DBM on binarised digits (${dbmSize})`;
  const lines = [
    title,
    "",
    `Data: ${r.split}. ${r.nTrain} training and ${r.nTest} test images, binarised ${r.binarization}.`,
    "",
  ];
  if (rbms.length > 0)
    lines.push(
      `Training: the same initial RBM (W ~ N(0, 0.01²), visible biases at the training base rates, hidden biases 0; seed ${o.seed}) ` +
        `and the same minibatches for every method: ${r.iterations} updates (${f(r.iterations / r.updatesPerEpoch, 2)} epochs of ${r.updatesPerEpoch}) ` +
        `of SGD, lr ${o.lr}, momentum ${momentumText(o.momentum)}, weight cost ${o.weightCost} on W, batch ${o.batch}; ` +
        `CD-${o.k}; PCD-${o.k} with ${o.pcdChains} persistent chains; Jarzynski with ${o.jarzynskiWalkers} walkers (${o.k} Gibbs sweep${o.k > 1 ? "s" : ""} per update, resampling when ESS < N/2` +
        (o.jarzynskiLr !== null && o.jarzynskiLr !== o.lr
          ? `; lr ${o.jarzynskiLr}: at larger steps the spread of the weight increments degenerates the weights at every update`
          : "") +
        ").",
      "",
      `Evaluation: mean test log-likelihood log p(v) = −F(v) − log Z in nats, log Z by AIS from the base-rate model ` +
        `(Salakhutdinov & Murray 2008): ${o.aisBetas} temperatures in their spacing × ${o.aisChains} chains, ${o.aisReplicas} independent replicas ` +
        'pooled on the Z scale; ± is the delta-method SE of log Z over the replicas (Monte Carlo error only; the test set\'s own sampling error is the column "test-set SE").' +
        (r.untrained?.logZExact !== undefined
          ? ` With ${o.hidden} hidden units log Z is also computed exactly (2^${o.hidden} hidden states enumerated), which checks AIS.`
          : ""),
      "",
      "Salakhutdinov & Murray (2008) report −86.34 nats for a 500-hidden-unit RBM trained with CD-25 on the full MNIST " +
        "(60 000 training / 10 000 test images). This run uses another split (above), another binarisation and far shorter " +
        "training, so its numbers are not comparable with that one and no comparison is claimed.",
      "",
    );
  if (d) {
    lines.push(
      `DBM (Salakhutdinov & Hinton 2009), ${dbmSize}: greedy layer-wise pretraining of two RBMs with doubled inputs ` +
        `(${d.pretrainIterations} updates each of CD-${o.k} with SGD, lr ${o.lr}, momentum ${momentumText(o.momentum)}, weight cost ${o.weightCost} on the weights, ` +
        `batch ${o.batch}, visible biases started at the base rates), then ${d.jointIterations} updates of joint training: mean-field positive phase, ` +
        `${o.dbmChains} persistent chains × ${o.dbmSweeps} block-Gibbs sweeps per update for the negative phase, lr ${o.dbmLr} decayed linearly to 0, ` +
        `the same momentum, weight cost and batch (seed ${o.seed}).`,
      "",
      "DBM evaluation: log Z by AIS on the (v, h2) free energy with h1 summed out, from the base-rate visible biases and the model's hidden biases: " +
        `${o.dbmAisBetas} temperatures × ${o.aisChains} chains, ${o.aisReplicas} replicas for the trained DBM (± over replicas as above); ` +
        `the untrained and the pretrained DBM, points of its training curve, with the curve's ${o.curveBetas} × ${o.curveChains}, ${o.curveReplicas} replicas. ` +
        "**The DBM's test log-likelihood is a lower bound**: the mean over test images of the mean-field variational bound " +
        "−E_q[E(v, h)] + H(q) − log Z ≤ log p(v). Its ± is the SE of log Ẑ over the AIS replicas; the spread of the per-image bound " +
        'over the test images is the column "test-set SE" (sd/√n). AIS\'s log Ẑ is biased low, so the estimated bound is biased high by about SE²/2. ' +
        "The untrained DBM has W1, W2 ~ N(0, 0.01²), visible biases at the base rates and hidden biases 0 (what the pretraining RBMs start from)." +
        (d.final.logZExact !== undefined
          ? ` With H1 = ${d.hidden1}, the trained DBM's log Z is also enumerated exactly (2^${d.hidden1} states of h1) and so is each test image's log p(v) ` +
            `(2^${Math.min(d.hidden1, d.hidden2)} hidden states), which checks AIS and shows the bound's gap.`
          : ""),
      "",
      `Salakhutdinov & Hinton (2009) report −84.62 nats (an AIS estimate of the same kind of lower bound) for a 784 × 500 × 1000 DBM ` +
        "on the full MNIST (60 000 training / 10 000 test images) after far longer training. This run uses the 8000/2000 split above, " +
        `another binarisation, a ${dbmSize} DBM and a few epochs, so its numbers are not comparable with that one and no comparison is claimed.`,
      "",
    );
  }
  lines.push(
    "![test log-likelihood over training](rbm-mnist.png)",
    "",
    `| model | test LL (nats) |${exact ? " test LL, exact | log Z: (AIS − exact)/SE |" : ""} test-set SE | train LL | log Z (AIS) | AIS ESS | train / eval s |`,
    `|---|---|${exact ? "---|---|" : ""}---|---|---|---|---|`,
  );
  const row = (name: string, l: RbmLikelihood, secs: string) =>
    `| ${name} | ${pm(l.testLL, l.testLLSe)} |${exact ? ` ${f(l.testLLExact)} | ${f(l.z, 1)} |` : ""} ${f(l.testSamplingSe)} | ${f(l.trainLL)} | ${pm(l.logZ, l.logZSe)} | ${f(l.aisEss, 1)} | ${secs} |`;
  lines.push(
    `| base-rate model (independent pixels, exact) | ${f(r.baseRateTestLL)} |${exact ? " | |" : ""} | | | | |`,
  );
  if (r.untrained) lines.push(row("untrained (initial RBM)", r.untrained, "–"));
  for (const m of rbms) lines.push(row(m.label, m.final, `${f(m.trainSeconds, 1)} / ${f(m.evalSeconds, 1)}`));
  if (dbmRun && d) {
    lines.push(row("untrained DBM, lower bound (curve AIS)", d.untrained, "–"));
    lines.push(
      row("DBM after pretraining, lower bound (curve AIS)", d.pretrained, `${f(d.pretrainSeconds, 1)} / –`),
    );
    lines.push(
      row(
        `${dbmRun.label} after joint training, **lower bound**`,
        d.final,
        `${f(dbmRun.trainSeconds, 1)} / ${f(dbmRun.evalSeconds, 1)}`,
      ),
    );
  }
  const j = r.methods.find((m) => m.method === "jarzynski");
  if (j)
    lines.push(
      "",
      `Jarzynski's running log Z at the end: training walkers ${pm(j.walkerLogZ ?? Number.NaN, j.walkerLogZSe ?? Number.NaN)}` +
        (j.estimatorLogZ !== undefined
          ? `, estimator population ${pm(j.estimatorLogZ, j.estimatorLogZSe ?? Number.NaN)}`
          : "") +
        ` (AIS: ${pm(j.final.logZ, j.final.logZSe)}); last ESS ${f(j.ess, 1)} of ${o.jarzynskiWalkers}, ${j.resamplings} resamplings. ` +
        "The training walkers' estimate is biased low by their own feedback on θ (objectives/rbm-jarzynski.ts)." +
        (j.estimatorLogZ !== undefined && o.estimatorIslands > 1
          ? ` The estimator population runs as ${o.estimatorIslands} independent islands of about ${Math.round(o.estimatorWalkers / o.estimatorIslands)} walkers; its SE is the spread of their estimates (${o.estimatorIslands - 1} degrees of freedom).`
          : "") +
        (!Number.isFinite(j.walkerLogZSe ?? Number.NaN) ||
        (j.estimatorLogZ !== undefined && !Number.isFinite(j.estimatorLogZSe ?? Number.NaN))
          ? " No SE where none is shown: the Lee–Whiteley estimate is unavailable once all of a population's walkers descend from one initial walker (or when it comes out negative)."
          : "") +
        // Resampling at most updates, or a last ESS of a few walkers, means the weights collapsed onto a handful
        // of ancestors: the Lee–Whiteley SE of the running log Z then says nothing, and the gradient was noise.
        (2 * (j.resamplings ?? 0) >= j.iterations || (j.ess ?? Infinity) < 0.05 * o.jarzynskiWalkers
          ? ` **Warning: the walkers' weights degenerated (${j.resamplings} resamplings in ${j.iterations} updates, last ESS ${f(j.ess, 1)} of ${o.jarzynskiWalkers}): the running log Z and its ± are not reliable and training was driven by a few walkers; try a smaller --lr (the weight increments spread with the step; more walkers do not raise the ESS fraction).**`
          : ""),
    );
  if (d) {
    const b = d.final as DbmLikelihood;
    lines.push(
      "",
      `DBM mean field on the test images: ${b.meanFieldConverged} of ${r.nTest} reached the tolerance, at most ${b.meanFieldMaxIterations} sweeps.` +
        (b.testBoundExact !== undefined
          ? ` With the exact log Z the bound is ${f(b.testBoundExact)} nats against the exact ${f(b.testLLExact)}: the mean gap KL(q ‖ p(h | v)) is ${f((b.testLLExact ?? Number.NaN) - b.testBoundExact, 3)} nats.`
          : ""),
    );
  }
  lines.push(
    "",
    "Samples: " +
      (rbms.length > 0
        ? `Gibbs chains from the base-rate model after ${o.sampleSweeps} sweeps under each RBM, shown as p(v | h) of the last sweep`
        : "") +
      (rbms.length > 0 && d ? "; " : "") +
      (d
        ? `${o.sampleChains} DBM Gibbs chains started from its biases after ${o.sampleSweeps} two-phase sweeps, shown as p(v | h1)`
        : "") +
      ". DBM filters: the columns of W1.",
    "",
  );
  lines.push(
    "| data | " + r.methods.map((m) => `${m.label} samples | ${m.label} filters`).join(" | ") + " |",
  );
  lines.push("|---|" + r.methods.map(() => "---|---").join("|") + "|");
  lines.push(
    "| ![data](data.png) | " +
      r.methods
        .map((m) => `![samples](samples-${m.method}.png) | ![filters](filters-${m.method}.png)`)
        .join(" | ") +
      " |",
  );
  lines.push("", "Raw numbers: `results.json`.", "");
  return lines.join("\n");
}

function momentumText(m: number): string {
  return m < 0.5 ? `${m}` : m === 0.5 ? "0.5" : `0.5 for the first epoch then ${m}`;
}

export async function runRbmMnistCommand(raw: RawRbmMnistOptions): Promise<void> {
  const o = parseOptions(raw);
  const outDir = reportFolder(raw.out);
  const digits = loadDigits();
  const r = await withProgress(raw, (progress) =>
    runRbmMnist(digits, o, (label, done, total) => progress.update(label, done, total)),
  );
  const series = r.methods.map((m) => ({
    name: m.dbm ? `${m.label} (lower bound)` : m.label,
    points: m.curve.map((p) => ({ x: p.epoch, y: p.testLL })),
  }));
  const hasRbm = r.methods.some((m) => m.dbm === undefined);
  const hasDbm = r.methods.some((m) => m.dbm !== undefined);
  const models = [
    ...(hasRbm ? [`784 × ${o.hidden} RBM`] : []),
    ...(hasDbm
      ? [`784 × ${o.dbmHidden[0]} × ${o.dbmHidden[1]} DBM (lower bound; pretraining then joint)`]
      : []),
  ];
  const grid = { height: DIGIT_SIDE, cols: 10, scale: 2 };
  const images: Record<string, Uint8Array> = { "data.png": imageGridPng(r.dataGrid, grid) };
  for (const m of r.methods) {
    images[`samples-${m.method}.png`] = imageGridPng(m.samples, grid);
    images[`filters-${m.method}.png`] = imageGridPng(m.filters, grid);
  }
  await writeReport(outDir, raw.json, {
    figure: {
      name: "rbm-mnist",
      spec: lineChart({
        title: `Test log-likelihood (AIS), ${models.join(", ")}`,
        x: { field: "epoch" },
        y: { field: "test LL (nats)" },
        series,
        hline: { y: r.baseRateTestLL, label: "base rates" },
      }),
    },
    files: images,
    summary: summary(r, outDir),
    markdown: markdown(r),
    print() {
      console.log(`rbm-mnist: ${models.join(", ")}, seed ${o.seed}; ${r.split}`);
      const line = (name: string, l: RbmLikelihood) =>
        `  ${name.padEnd(15)} test LL ${pm(l.testLL, l.testLLSe)} nats (${isDbm(l) ? "lower bound, AIS log Z" : "AIS"})` +
        (l.testLLExact !== undefined
          ? `, exact ${f(l.testLLExact)} (log Z: AIS − exact = ${f(l.z, 1)} SE)`
          : "");
      console.log(`  ${"base rates".padEnd(15)} test LL ${f(r.baseRateTestLL)} nats (exact)`);
      if (r.untrained) console.log(line("untrained", r.untrained));
      for (const m of r.methods) {
        if (m.dbm) {
          console.log(line("untrained DBM", m.dbm.untrained));
          console.log(line("pretrained DBM", m.dbm.pretrained));
        }
        console.log(line(m.label, m.final));
      }
    },
  });
}

export function rbmMnistOptions(cmd: Command): Command {
  const d = RBM_MNIST_DEFAULTS;
  const q = RBM_MNIST_QUICK;
  return cmd
    .option(
      "--quick",
      `H = ${q.hidden} and a 784 × ${q.dbmHidden.join(" × ")} DBM, ${q.maxIters} updates per phase, exact log Z checks AIS (under a minute)`,
    )
    .option("--hidden <H>", `hidden units (default ${d.hidden}; --quick ${q.hidden})`)
    .option(
      "--epochs <E>",
      `passes over the 8000 training images (default ${d.epochs}; --quick: ${q.maxIters} updates)`,
    )
    .option(
      "--methods <list>",
      `comma-separated subset of ${RBM_MNIST_METHODS.join(", ")} (default all; dbm: the two-layer DBM)`,
    )
    .option("--k <k>", `Gibbs sweeps per update of CD-k and PCD-k (default ${d.k})`)
    .option("--lr <rate>", `SGD learning rate (default ${d.lr})`)
    .option(
      "--jarzynski-lr <rate>",
      `Jarzynski's learning rate: its walkers' weights degenerate at larger steps (default ${d.jarzynskiLr}; --quick: --lr)`,
    )
    .option("--momentum <μ>", `momentum after the first epoch (min(0.5, μ) before; default ${d.momentum})`)
    .option("--walkers <N>", `Jarzynski walkers (default ${d.jarzynskiWalkers})`)
    .option(
      "--betas <K>",
      `AIS temperatures of the final evaluation (default ${d.aisBetas}; --quick ${q.aisBetas})`,
    )
    .option("--chains <N>", `AIS chains per replica (default ${d.aisChains})`)
    .option("--replicas <R>", `independent AIS runs: the SE of log Z (default ${d.aisReplicas})`)
    .option(
      "--dbm-hidden <H1,H2>",
      `the DBM's hidden layers (default ${d.dbmHidden.join(",")}, a fifth of Salakhutdinov & Hinton's 500,1000 ` +
        `on the full MNIST, for time: the DBM runs in JavaScript; --quick ${q.dbmHidden.join(",")})`,
    )
    .option(
      "--dbm-pretrain-epochs <E>",
      `greedy pretraining: passes for each of the DBM's two RBMs (default ${d.dbmPretrainEpochs}; --quick: ${q.dbmMaxIters} updates)`,
    )
    .option(
      "--dbm-epochs <E>",
      `joint mean-field/PCD training of the DBM: passes (default ${d.dbmEpochs}; --quick: ${q.dbmMaxIters} updates)`,
    )
    .option("--dbm-lr <rate>", `joint training's learning rate, decayed linearly to 0 (default ${d.dbmLr})`)
    .option(
      "--dbm-betas <K>",
      `AIS temperatures of the trained DBM's evaluation (default ${d.dbmAisBetas}; --quick ${q.dbmAisBetas}; chains and replicas as --chains, --replicas)`,
    )
    .option("--seed <n>", `random seed of the initial model, minibatches and evaluation (default ${d.seed})`)
    .option("--out <dir>", "report folder", "out/rbm-mnist")
    .option("--json", "print the results as one JSON object on the last line of stdout")
    .option("--no-progress", "do not show a progress bar");
}
