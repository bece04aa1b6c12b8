/**
 * ROC curves and the area under them, for anomaly scores (higher = more anomalous). With energies as
 * scores no partition function is needed: log p(x) = −U(x) − log Z ranks points the same for every Z (the
 * ratio trick of seed 001).
 *
 * AUC is the Mann–Whitney probability P(score(anomaly) > score(normal)) + ½P(tie), computed from midranks
 * in O(n log n). Its standard error is Hanley & McNeil's (1982):
 *   SE² = [A(1 − A) + (n₁ − 1)(Q₁ − A²) + (n₀ − 1)(Q₂ − A²)] / (n₀n₁),  Q₁ = A/(2 − A),  Q₂ = 2A²/(1 + A),
 * with n₁ anomalies and n₀ normal points; it assumes the exponential-like score distributions of that
 * paper and is a reasonable error bar elsewhere (it matches DeLong's within a few per cent for smooth
 * scores).
 */

export interface RocAuc {
  auc: number;
  se: number;
  /** Normal and anomalous points scored. */
  normal: number;
  anomalous: number;
}

function checkScores(v: ArrayLike<number>, what: string): void {
  if (v.length < 1) throw new RangeError(`${what}: no scores`);
  for (let i = 0; i < v.length; i++)
    if (!Number.isFinite(v[i])) throw new RangeError(`${what}: score ${i} is not finite (${v[i]})`);
}

/** AUC of scores separating `anomalous` (positives) from `normal`, with the Hanley–McNeil SE. */
export function rocAuc(normal: ArrayLike<number>, anomalous: ArrayLike<number>): RocAuc {
  checkScores(normal, "normal");
  checkScores(anomalous, "anomalous");
  const n0 = normal.length;
  const n1 = anomalous.length;
  const all: { s: number; pos: boolean }[] = [];
  for (let i = 0; i < n0; i++) all.push({ s: normal[i], pos: false });
  for (let i = 0; i < n1; i++) all.push({ s: anomalous[i], pos: true });
  all.sort((a, b) => a.s - b.s);
  // Sum of the positives' midranks (1-based).
  let rankSum = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j + 1 < all.length && all[j + 1].s === all[i].s) j++;
    const mid = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (all[k].pos) rankSum += mid;
    i = j + 1;
  }
  const auc = (rankSum - (n1 * (n1 + 1)) / 2) / (n0 * n1);
  const q1 = auc / (2 - auc);
  const q2 = (2 * auc * auc) / (1 + auc);
  const v = (auc * (1 - auc) + (n1 - 1) * (q1 - auc * auc) + (n0 - 1) * (q2 - auc * auc)) / (n0 * n1);
  return { auc, se: Math.sqrt(Math.max(v, 0)), normal: n0, anomalous: n1 };
}

/**
 * The ROC curve: (false positive rate, true positive rate) at every distinct threshold, from (0, 0) to
 * (1, 1); a point is flagged when its score ≥ the threshold.
 */
export function rocCurve(
  normal: ArrayLike<number>,
  anomalous: ArrayLike<number>,
): { fpr: number; tpr: number }[] {
  checkScores(normal, "normal");
  checkScores(anomalous, "anomalous");
  const all: { s: number; pos: boolean }[] = [];
  for (let i = 0; i < normal.length; i++) all.push({ s: normal[i], pos: false });
  for (let i = 0; i < anomalous.length; i++) all.push({ s: anomalous[i], pos: true });
  all.sort((a, b) => b.s - a.s);
  const out = [{ fpr: 0, tpr: 0 }];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j].s === all[i].s) {
      if (all[j].pos) tp++;
      else fp++;
      j++;
    }
    out.push({ fpr: fp / normal.length, tpr: tp / anomalous.length });
    i = j;
  }
  return out;
}
