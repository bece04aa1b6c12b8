/** Every workload behind `ebm bench`, in display order. Each file under workloads/ exports `workloads`. */
import type { Workload } from "./workload.ts";

const GROUPS: (() => Promise<Workload[]>)[] = [
  () => import("./workloads/mlp.ts").then((m) => m.workloads),
  () => import("./workloads/gmm1d.ts").then((m) => m.workloads),
  () => import("./workloads/samplers.ts").then((m) => m.workloads),
  () => import("./workloads/rbm.ts").then((m) => m.workloads),
  () => import("./workloads/discrete.ts").then((m) => m.workloads),
  () => import("./workloads/toy2d.ts").then((m) => m.workloads),
  () => import("./workloads/gebm.ts").then((m) => m.workloads),
];

export async function allWorkloads(): Promise<Workload[]> {
  const groups = await Promise.all(GROUPS.map((load) => load()));
  return groups.flat();
}
