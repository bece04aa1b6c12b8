/**
 * The sampler tab's targets, built in any host from the target-file data of settings.ts (TARGET_FILES) the
 * way src/targets/load.ts builds them in Node (the loader reads files, so it cannot run in a browser; a
 * test checks the two agree), with their exact moments and the window the page draws. No `**` and no
 * Math.exp/log here (the host's pow, exp and log differ in the last bit between Node and a browser).
 */
import {
  BananaEnergy,
  type Energy,
  FunnelEnergy,
  GaussianEnergy,
  GmmEnergy,
  portableExpFast,
} from "../../../src/index.ts";
import { TARGET_FILES, type TargetName } from "./settings.ts";

export interface SamplerTarget {
  name: TargetName;
  energy: Energy;
  /** Exact mean and standard deviation of each coordinate under e^{−U}/Z. */
  mean: [number, number];
  sd: [number, number];
  /** The drawn window [x₁ min, x₁ max, x₂ min, x₂ max]. */
  window: [number, number, number, number];
}

const WINDOWS: Record<TargetName, [number, number, number, number]> = {
  gmm2d: [-4.75, 4.75, -4, 5.5],
  banana: [-6, 6, -8, 4],
  funnel: [-9, 9, -9, 9],
  gaussian: [-5, 7, -5.5, 6.5],
};

export function buildTarget(name: TargetName): SamplerTarget {
  const window = WINDOWS[name];
  switch (name) {
    case "gmm2d": {
      const f = TARGET_FILES.gmm2d;
      // As the loader: weights normalized there, then by the energy.
      const total = f.weights.reduce<number>((a, w) => a + w, 0);
      const weights = f.weights.map((w) => w / total);
      const energy = new GmmEnergy({ weights, means: f.means.map((m) => [...m]), stds: [...f.stds] });
      const mean: [number, number] = [0, 0];
      const second: [number, number] = [0, 0];
      for (let k = 0; k < f.weights.length; k++)
        for (let j = 0; j < 2; j++) {
          mean[j] += energy.weights[k] * f.means[k][j];
          second[j] += energy.weights[k] * (f.stds[k] * f.stds[k] + f.means[k][j] * f.means[k][j]);
        }
      const sd: [number, number] = [
        Math.sqrt(second[0] - mean[0] * mean[0]),
        Math.sqrt(second[1] - mean[1] * mean[1]),
      ];
      return { name, energy, mean, sd, window };
    }
    case "banana": {
      const { dim, b, scale } = TARGET_FILES.banana;
      const energy = new BananaEnergy(dim, b, scale);
      // Var x₁ = s², Var x₂ = 1 + 2b²s⁴ (energies/banana.ts).
      const s2 = scale * scale;
      return { name, energy, mean: [0, 0], sd: [scale, Math.sqrt(1 + 2 * b * b * s2 * s2)], window };
    }
    case "funnel": {
      const { dim, scale } = TARGET_FILES.funnel;
      const energy = new FunnelEnergy(dim, scale);
      // x₂ | v ~ N(0, eᵛ) with v ~ N(0, σ²): Var x₂ = E eᵛ = e^{σ²/2}.
      return { name, energy, mean: [0, 0], sd: [scale, portableExpFast((scale * scale) / 4)], window };
    }
    case "gaussian": {
      const f = TARGET_FILES.gaussian;
      const energy = new GaussianEnergy([...f.mean], f.cov.flat());
      return {
        name,
        energy,
        mean: [f.mean[0], f.mean[1]],
        sd: [Math.sqrt(f.cov[0][0]), Math.sqrt(f.cov[1][1])],
        window,
      };
    }
  }
}

/**
 * e^{−U} on the cell centres of an n × n grid over the target's window, x-major (cell (ix, iy) at ix·n + iy,
 * as the page's heatmap reads it), divided by its largest value.
 */
export function densityGrid(t: SamplerTarget, n: number): Float64Array {
  const [x0, x1, y0, y1] = t.window;
  const pts = new Float64Array(2 * n * n);
  for (let ix = 0; ix < n; ix++)
    for (let iy = 0; iy < n; iy++) {
      const i = ix * n + iy;
      pts[2 * i] = x0 + ((ix + 0.5) / n) * (x1 - x0);
      pts[2 * i + 1] = y0 + ((iy + 0.5) / n) * (y1 - y0);
    }
  const u = new Float64Array(n * n);
  t.energy.energy(pts, n * n, u);
  let min = Infinity;
  for (const v of u) if (v < min) min = v;
  const out = new Float64Array(n * n);
  for (let i = 0; i < out.length; i++) out[i] = portableExpFast(min - u[i]);
  return out;
}
