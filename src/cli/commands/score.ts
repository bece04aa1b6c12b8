/**
 * `ebm score --model DIR|FILE --data FILE [--out FILE.csv] [--json]`: the energy of every row of a data
 * file under a trained model — the free energy F(v) = −bᵀv − Σ_j softplus(c_j + (vᵀW)_j) for an RBM (0/1
 * rows; float64 from the stored parameters), U_θ(x) in the user's coordinates for an MLP or exponential
 * family. Lower is more probable; log p(x) = −U(x) − log Z (`ebm logz`).
 *
 * Output: without --out, a CSV on stdout (header `free_energy` or `energy`, then one value per data row,
 * in order, shortest round-trip decimals); with --out, that CSV written atomically and a one-line summary;
 * with --json, one JSON object (n, mean, sd, min, max, and the values when there is no --out) as the last
 * stdout line. A bad model, data file or destination is refused with one line before anything is written.
 */
import type { Command } from "commander";
import { DataFileError, type DataTable, loadDataFile, writeFileAtomic } from "../../node.ts";
import { printable, UserError } from "../errors.ts";
import { loadTrainedModel } from "../model.ts";
import { loadRbm } from "../rbm-model.ts";
import { checkCsvOut } from "./density.ts";

interface RawScoreOptions {
  model?: string;
  data?: string;
  out?: string;
  json?: boolean;
}

function readData(path: string): DataTable {
  try {
    return loadDataFile(path);
  } catch (e) {
    if (e instanceof DataFileError) throw new UserError(`--data ${e.message}`);
    throw e;
  }
}

function checkColumns(data: DataTable, file: string, dim: number, what: string): void {
  if (data.dim !== dim)
    throw new UserError(`--data ${printable(file)}: ${data.dim} columns, but ${what} expects ${dim}`);
}

export async function runScoreCommand(raw: RawScoreOptions): Promise<void> {
  if (raw.model === undefined)
    throw new UserError("--model is required: a folder written by `ebm train`, or an RBM .safetensors file");
  if (raw.data === undefined) throw new UserError("--data FILE (.csv or .npy) is required");
  checkCsvOut(raw.out, false);
  const rbm = loadRbm(raw.model);
  const data = readData(raw.data);
  const u = new Float64Array(data.n);
  let kind: "free_energy" | "energy";
  if (rbm) {
    kind = "free_energy";
    checkColumns(data, raw.data, rbm.rbm.visible, "the RBM's visible layer");
    for (let q = 0; q < data.x.length; q++)
      if (data.x[q] !== 0 && data.x[q] !== 1)
        throw new UserError(
          `--data ${printable(raw.data)}: row ${Math.floor(q / data.dim) + 1}, column ${(q % data.dim) + 1} holds ${data.x[q]}: an RBM scores 0/1 data`,
        );
    rbm.rbm.energy(data.x, data.n, u);
  } else {
    kind = "energy";
    const tm = await loadTrainedModel(raw.model);
    try {
      checkColumns(data, raw.data, tm.energy.dim, "the model");
      // Columns are matched by position; say so when the names differ from the training file's.
      const trained = (tm.data as { kind?: string; columns?: unknown } | null)?.columns;
      if (
        Array.isArray(trained) &&
        data.columns !== undefined &&
        trained.some((c, i) => c !== data.columns?.[i])
      )
        process.stderr.write(
          `warning: --data ${printable(raw.data)} has columns ${printable(data.columns.join(","))}, the model was trained on ${printable(trained.join(","))}: scored by position\n`,
        );
      tm.energy.energy(data.x, data.n, u);
    } finally {
      tm.model.dispose();
    }
  }
  const csv = `${kind}\n${Array.from(u, (v) => String(v)).join("\n")}\n`;
  if (raw.out !== undefined) writeFileAtomic(raw.out, csv);
  let mean = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of u) {
    mean += v / u.length;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const sd = Math.sqrt(u.reduce((a, v) => a + (v - mean) ** 2, 0) / Math.max(1, u.length - 1));
  if (raw.json) {
    console.log(
      JSON.stringify({
        kind,
        n: data.n,
        mean,
        sd,
        min,
        max,
        model: raw.model,
        data: raw.data,
        ...(raw.out !== undefined ? { out: raw.out } : { values: Array.from(u) }),
      }),
    );
    return;
  }
  if (raw.out === undefined) {
    process.stdout.write(csv);
    return;
  }
  console.log(
    `${kind.replace("_", " ")} of ${data.n} rows of ${printable(raw.data)}: mean ${mean.toFixed(4)}, sd ${sd.toFixed(4)}, ` +
      `min ${min.toFixed(4)}, max ${max.toFixed(4)}; written to ${printable(raw.out)}`,
  );
}

export function scoreCommand(cmd: Command): Command {
  return cmd
    .option("--model <dir|file>", "checkpoint folder written by `ebm train`, or an RBM .safetensors file")
    .option(
      "--data <file>",
      "rows to score: .csv (with a header) or .npy, the model's columns (0/1 for an RBM)",
    )
    .option("--out <file.csv>", "write the values here (atomically) instead of to stdout")
    .option("--json", "print one JSON object on the last line of stdout")
    .action(runScoreCommand);
}
