/**
 * The sampler tab's settings: the targets it offers (as target-file data, the format of `ebm sample
 * --target`), the kernels, the run's sizes and seed, their checks, and their place in the page's URL.
 *
 * Host-free and import-free (no core, no DOM): the page, the sampler worker and the tests share it, and the
 * page stays small because it never loads the core (sampling happens in the worker).
 *
 * URL: the Train tab owns the plain keys (web/src/settings.ts ignores keys it does not know); this tab adds
 * `tab=sampler` and its own keys prefixed `s.` (`s.target=banana&s.sampler=mala&s.seed=3`), so a link opens
 * the tab with its run, and the Train tab's settings travel along unchanged.
 */

/** The kernels offered (names of the core's runContinuous). */
export const SAMPLERS = ["rwm", "mala", "hmc", "nuts"] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export const SAMPLER_LABELS: Record<SamplerName, string> = {
  rwm: "Random-walk Metropolis",
  mala: "MALA",
  hmc: "HMC",
  nuts: "NUTS",
};

/** One line per kernel, shown next to its select. */
export const SAMPLER_HELP: Record<SamplerName, string> = {
  rwm: "Gaussian proposal around the current point, accepted by Metropolis–Hastings; uses no gradient.",
  mala: "One Langevin step (a gradient step plus noise) as the proposal, with the Metropolis–Hastings correction.",
  hmc: "Leapfrog trajectories of a fixed maximum length (jittered), accepted on the energy error.",
  nuts: "HMC that doubles its trajectory until it turns back (no-U-turn), then picks a point on it (Stan's NUTS).",
};

/** The acceptance rate warm-up adapts each kernel's step toward (the core's TARGET_ACCEPT; a test checks). */
export const TARGET_ACCEPTANCE: Record<SamplerName, number> = { rwm: 0.3, mala: 0.574, hmc: 0.8, nuts: 0.8 };

/**
 * The 2-D targets, each as the data of a target file (`ebm sample --target FILE.json` reads exactly this):
 * gmm2d is examples/targets/gmm2d.yaml; funnel is examples/targets/funnel.yaml in 2 dimensions instead of
 * 10 (same scale); banana and gaussian have no file. test/web/sampler.test.ts checks that the worker's
 * energies equal the loader's on these data and on the example files.
 */
export const TARGET_FILES = {
  gmm2d: {
    type: "gmm",
    weights: [0.3, 0.7],
    means: [
      [-2, 0],
      [2, 1],
    ],
    stds: [0.6, 0.8],
  },
  banana: { type: "banana", dim: 2, b: 0.25, scale: 2 },
  funnel: { type: "funnel", dim: 2, scale: 3 },
  gaussian: {
    type: "gaussian",
    mean: [1, 0.5],
    cov: [
      [1, 1.35],
      [1.35, 2.25],
    ],
  },
} as const;

export const TARGETS = ["gmm2d", "banana", "funnel", "gaussian"] as const;
export type TargetName = (typeof TARGETS)[number];

export const TARGET_LABELS: Record<TargetName, string> = {
  gmm2d: "Two Gaussians (gmm2d)",
  banana: "Banana",
  funnel: "Neal's funnel (2-D)",
  gaussian: "Correlated Gaussian",
};

export const TARGET_HELP: Record<TargetName, string> = {
  gmm2d:
    "examples/targets/gmm2d.yaml: mass 0.3 at (−2, 0), 0.7 at (2, 1). Chains rarely cross the gap, and R-hat says so.",
  banana:
    "Haario's twisted Gaussian (b = 0.25, sd 2 along x₁): a curved ridge whose curvature changes, so no one step fits it everywhere.",
  funnel:
    "examples/targets/funnel.yaml in 2-D: x₁ = v ~ N(0, 3²), x₂ | v ~ N(0, eᵛ). The neck makes divergences.",
  gaussian:
    "Mean (1, 0.5), sds 1 and 1.5, correlation 0.9: easy once the mass matrix is adapted, slow without.",
};

/** The example file a target comes from, where there is one. */
export const EXAMPLE_FILE: Partial<Record<TargetName, string>> = {
  gmm2d: "examples/targets/gmm2d.yaml",
  funnel: "examples/targets/funnel.yaml",
};

export interface SamplerSettings {
  target: TargetName;
  sampler: SamplerName;
  /** Adapt step size and mass matrix in warm-up (Stan's window adaptation); else `step`, identity mass. */
  adapt: boolean;
  /** The fixed step size when adapt is off. */
  step: number;
  /** HMC: maximum leapfrog steps per transition (each transition draws 1 … leapfrog). */
  leapfrog: number;
  /** Draws kept per chain, warm-up iterations per chain, chains. */
  draws: number;
  warmup: number;
  chains: number;
  seed: number;
}

/** The CLI's defaults (`ebm sample`), so the default run is `ebm sample`'s. */
export const SAMPLER_DEFAULTS: SamplerSettings = {
  target: "gmm2d",
  sampler: "nuts",
  adapt: true,
  step: 0.25,
  leapfrog: 10,
  draws: 1000,
  warmup: 1000,
  chains: 4,
  seed: 0,
};

/** Limits of the numeric settings: [min, max, integer?]. The page's inputs use the same. */
export const SAMPLER_LIMITS = {
  step: [1e-4, 10, false],
  leapfrog: [1, 1000, true],
  draws: [10, 20000, true],
  warmup: [0, 20000, true],
  chains: [1, 16, true],
  seed: [0, 2 ** 31 - 1, true],
} as const satisfies Record<string, readonly [number, number, boolean]>;

export type SamplerNumber = keyof typeof SAMPLER_LIMITS;
const NUMBER_KEYS = ["step", "leapfrog", "draws", "warmup", "chains", "seed"] as const;

/** Warm-up iterations needed to adapt (Stan's schedule shrinks its windows below 150, but needs some). */
export const MIN_ADAPT_WARMUP = 20;

/** A list of problems (empty when `s` is valid), each naming the setting. */
export function checkSamplerSettings(s: SamplerSettings): string[] {
  const out: string[] = [];
  if (!(TARGETS as readonly string[]).includes(s.target))
    out.push(`target must be one of ${TARGETS.join(", ")}, got ${s.target}`);
  if (!(SAMPLERS as readonly string[]).includes(s.sampler))
    out.push(`sampler must be one of ${SAMPLERS.join(", ")}, got ${s.sampler}`);
  if (typeof s.adapt !== "boolean") out.push(`adapt must be true or false, got ${s.adapt}`);
  for (const k of NUMBER_KEYS) {
    const [lo, hi, int] = SAMPLER_LIMITS[k];
    const v = s[k];
    if (!(typeof v === "number" && Number.isFinite(v) && v >= lo && v <= hi) || (int && !Number.isInteger(v)))
      out.push(`${k} must be ${int ? "an integer" : "a number"} in [${lo}, ${hi}], got ${v}`);
  }
  if (s.adapt && s.warmup < MIN_ADAPT_WARMUP)
    out.push(
      `warm-up must be at least ${MIN_ADAPT_WARMUP} to adapt, got ${s.warmup} (or switch adaptation off)`,
    );
  return out;
}

export function cloneSamplerSettings(s: SamplerSettings): SamplerSettings {
  return { ...s };
}

/** This tab's URL keys: `tab=sampler`, then `s.target`, `s.sampler` and what differs from the defaults. */
export function samplerToHash(s: SamplerSettings): string {
  const p: [string, string][] = [
    ["tab", "sampler"],
    ["s.target", s.target],
    ["s.sampler", s.sampler],
  ];
  if (s.adapt !== SAMPLER_DEFAULTS.adapt) p.push(["s.adapt", s.adapt ? "1" : "0"]);
  for (const k of NUMBER_KEYS) if (s[k] !== SAMPLER_DEFAULTS[k]) p.push([`s.${k}`, String(s[k])]);
  return p.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
}

/** The page's whole fragment with this tab shown: the Train tab's part (may be empty), then this tab's. */
export function pageHash(trainPart: string, s: SamplerSettings): string {
  const train = trainPart.replace(/^#/, "");
  return train ? `${train}&${samplerToHash(s)}` : samplerToHash(s);
}

/**
 * Which tab a fragment shows, and this tab's settings from it (defaults for what is absent; values that do
 * not parse are reported in `problems` and left at their defaults). Keys without `s.` are the Train tab's.
 */
export function samplerFromHash(hash: string): {
  tab: "train" | "sampler";
  settings: SamplerSettings;
  problems: string[];
} {
  const s = cloneSamplerSettings(SAMPLER_DEFAULTS);
  const problems: string[] = [];
  const text = hash.startsWith("#") ? hash.slice(1) : hash;
  const params = new Map<string, string>();
  for (const part of text.split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const key = eq < 0 ? part : part.slice(0, eq);
    if (key !== "tab" && !key.startsWith("s.")) continue;
    try {
      params.set(key, decodeURIComponent(eq < 0 ? "" : part.slice(eq + 1)));
    } catch {
      problems.push(`${key}: not a valid URL value`);
    }
  }
  const tab = params.get("tab") === "sampler" ? "sampler" : "train";
  const target = params.get("s.target");
  if (target !== undefined) {
    if ((TARGETS as readonly string[]).includes(target)) s.target = target as TargetName;
    else problems.push(`s.target: unknown target '${target}'`);
  }
  const sampler = params.get("s.sampler");
  if (sampler !== undefined) {
    if ((SAMPLERS as readonly string[]).includes(sampler)) s.sampler = sampler as SamplerName;
    else problems.push(`s.sampler: unknown sampler '${sampler}'`);
  }
  const adapt = params.get("s.adapt");
  if (adapt !== undefined) {
    if (adapt === "1" || adapt === "0") s.adapt = adapt === "1";
    else problems.push(`s.adapt: '${adapt}' is not 0 or 1`);
  }
  for (const k of NUMBER_KEYS) {
    const v = params.get(`s.${k}`);
    if (v === undefined) continue;
    const x = Number(v);
    if (v.trim() === "" || !Number.isFinite(x)) problems.push(`s.${k}: '${v}' is not a number`);
    else s[k] = x;
  }
  problems.push(...checkSamplerSettings(s));
  return { tab, settings: s, problems };
}

/**
 * The same run from the command line: `ebm sample` with these settings on the target saved as a file
 * (`file`), which gives the table's numbers (the tab runs the core's runContinuous as the CLI does).
 */
export function cliCommand(s: SamplerSettings, file: string): string {
  const args = [`npx ebm sample --target ${file} --sampler ${s.sampler}`];
  args.push(`--chains ${s.chains} --warmup ${s.warmup} --draws ${s.draws} --seed ${s.seed}`);
  if (!s.adapt) args.push(`--step ${s.step}`);
  if (s.sampler === "hmc" && s.leapfrog !== SAMPLER_DEFAULTS.leapfrog)
    args.push(`--leapfrog-steps ${s.leapfrog}`);
  return args.join(" ");
}
