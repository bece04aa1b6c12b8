/**
 * Float32 matrix products for the RBM kernels. Every matrix is a row-major Float32Array; outputs are
 * written to caller-owned arrays (no allocation). Products are plain i-k-j loops: for each output row i,
 * the rows of B are streamed in order and added into the row C[i,:], which stays in L1. The k loop is
 * unrolled 4 ways (four rows of B are combined per pass over C[i,:], which cuts the loads and stores of
 * C by four) and so is the inner j loop. Zero coefficients of A are skipped, which halves the work on the
 * 0/1 states of an RBM.
 *
 * The `binary*` variants take A as 0/1 bytes (RBM states): they gather the indices of the ones first and
 * add B's rows sixteen at a time (sums of sixteen rows are formed in float64 registers and added to C
 * once), with no multiplications. Any non-zero byte counts as a one.
 */

/** C = A·B, or C += A·B with `accumulate`; A is m×k, B is k×n, C is m×n. */
export function matmul(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  m: number,
  k: number,
  n: number,
  accumulate = false,
): void {
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    const ai = i * k;
    if (!accumulate) c.fill(0, ci, ci + n);
    let p = 0;
    for (; p + 3 < k; p += 4) {
      const a0 = a[ai + p];
      const a1 = a[ai + p + 1];
      const a2 = a[ai + p + 2];
      const a3 = a[ai + p + 3];
      if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue;
      addRows4(c, ci, b, p * n, n, a0, a1, a2, a3);
    }
    for (; p < k; p++) {
      const a0 = a[ai + p];
      if (a0 !== 0) addRow(c, ci, b, p * n, n, a0);
    }
  }
}

/** C = α·AᵀB, or C += α·AᵀB with `accumulate`; A is k×m, B is k×n, C is m×n. */
export function matmulTransA(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  m: number,
  k: number,
  n: number,
  alpha = 1,
  accumulate = false,
): void {
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    if (!accumulate) c.fill(0, ci, ci + n);
    let p = 0;
    for (; p + 3 < k; p += 4) {
      const a0 = alpha * a[p * m + i];
      const a1 = alpha * a[(p + 1) * m + i];
      const a2 = alpha * a[(p + 2) * m + i];
      const a3 = alpha * a[(p + 3) * m + i];
      if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue;
      addRows4(c, ci, b, p * n, n, a0, a1, a2, a3);
    }
    for (; p < k; p++) {
      const a0 = alpha * a[p * m + i];
      if (a0 !== 0) addRow(c, ci, b, p * n, n, a0);
    }
  }
}

/** c[ci + j] += a0·b[r + j] + a1·b[r + n + j] + a2·b[r + 2n + j] + a3·b[r + 3n + j], j < n. */
function addRows4(
  c: Float32Array,
  ci: number,
  b: Float32Array,
  r: number,
  n: number,
  a0: number,
  a1: number,
  a2: number,
  a3: number,
): void {
  const r1 = r + n;
  const r2 = r1 + n;
  const r3 = r2 + n;
  let j = 0;
  for (; j + 3 < n; j += 4) {
    c[ci + j] += a0 * b[r + j] + a1 * b[r1 + j] + (a2 * b[r2 + j] + a3 * b[r3 + j]);
    c[ci + j + 1] += a0 * b[r + j + 1] + a1 * b[r1 + j + 1] + (a2 * b[r2 + j + 1] + a3 * b[r3 + j + 1]);
    c[ci + j + 2] += a0 * b[r + j + 2] + a1 * b[r1 + j + 2] + (a2 * b[r2 + j + 2] + a3 * b[r3 + j + 2]);
    c[ci + j + 3] += a0 * b[r + j + 3] + a1 * b[r1 + j + 3] + (a2 * b[r2 + j + 3] + a3 * b[r3 + j + 3]);
  }
  for (; j < n; j++) c[ci + j] += a0 * b[r + j] + a1 * b[r1 + j] + (a2 * b[r2 + j] + a3 * b[r3 + j]);
}

/** c[ci + j] += a0·b[r + j], j < n. */
function addRow(c: Float32Array, ci: number, b: Float32Array, r: number, n: number, a0: number): void {
  let j = 0;
  for (; j + 3 < n; j += 4) {
    c[ci + j] += a0 * b[r + j];
    c[ci + j + 1] += a0 * b[r + j + 1];
    c[ci + j + 2] += a0 * b[r + j + 2];
    c[ci + j + 3] += a0 * b[r + j + 3];
  }
  for (; j < n; j++) c[ci + j] += a0 * b[r + j];
}

/**
 * c[ci + j] = init + α·Σ_q b[idx[q] + j] over the `count` row offsets in idx (init = c[ci + j] when
 * `accumulate`, else 0). Rows are summed sixteen, eight, four, then one at a time (in float64 registers).
 */
function addIndexedRows(
  c: Float32Array,
  ci: number,
  b: Float32Array,
  idx: Int32Array,
  count: number,
  n: number,
  alpha: number,
  accumulate: boolean,
): void {
  if (!accumulate) c.fill(0, ci, ci + n);
  let q = 0;
  for (; q + 15 < count; q += 16) {
    const r0 = idx[q];
    const r1 = idx[q + 1];
    const r2 = idx[q + 2];
    const r3 = idx[q + 3];
    const r4 = idx[q + 4];
    const r5 = idx[q + 5];
    const r6 = idx[q + 6];
    const r7 = idx[q + 7];
    const r8 = idx[q + 8];
    const r9 = idx[q + 9];
    const r10 = idx[q + 10];
    const r11 = idx[q + 11];
    const r12 = idx[q + 12];
    const r13 = idx[q + 13];
    const r14 = idx[q + 14];
    const r15 = idx[q + 15];
    for (let j = 0; j < n; j++) {
      const s =
        b[r0 + j] +
        b[r1 + j] +
        (b[r2 + j] + b[r3 + j]) +
        (b[r4 + j] + b[r5 + j] + (b[r6 + j] + b[r7 + j])) +
        (b[r8 + j] +
          b[r9 + j] +
          (b[r10 + j] + b[r11 + j]) +
          (b[r12 + j] + b[r13 + j] + (b[r14 + j] + b[r15 + j])));
      c[ci + j] += alpha === 1 ? s : alpha * s;
    }
  }
  for (; q + 7 < count; q += 8) {
    const r0 = idx[q];
    const r1 = idx[q + 1];
    const r2 = idx[q + 2];
    const r3 = idx[q + 3];
    const r4 = idx[q + 4];
    const r5 = idx[q + 5];
    const r6 = idx[q + 6];
    const r7 = idx[q + 7];
    if (alpha === 1) {
      for (let j = 0; j < n; j++)
        c[ci + j] +=
          b[r0 + j] + b[r1 + j] + (b[r2 + j] + b[r3 + j]) + (b[r4 + j] + b[r5 + j] + (b[r6 + j] + b[r7 + j]));
    } else {
      for (let j = 0; j < n; j++)
        c[ci + j] +=
          alpha *
          (b[r0 + j] +
            b[r1 + j] +
            (b[r2 + j] + b[r3 + j]) +
            (b[r4 + j] + b[r5 + j] + (b[r6 + j] + b[r7 + j])));
    }
  }
  for (; q + 3 < count; q += 4) {
    const r0 = idx[q];
    const r1 = idx[q + 1];
    const r2 = idx[q + 2];
    const r3 = idx[q + 3];
    for (let j = 0; j < n; j++) c[ci + j] += alpha * (b[r0 + j] + b[r1 + j] + (b[r2 + j] + b[r3 + j]));
  }
  for (; q < count; q++) {
    const r0 = idx[q];
    for (let j = 0; j < n; j++) c[ci + j] += alpha * b[r0 + j];
  }
}

/**
 * C = A·B (or C += A·B) for 0/1 bytes A (m×k): row i of C is the sum of the rows p of B (k×n) with
 * A[i,p] ≠ 0. `idx` is scratch of length ≥ k.
 */
export function binaryMatmul(
  a: Uint8Array,
  b: Float32Array,
  c: Float32Array,
  m: number,
  k: number,
  n: number,
  idx: Int32Array,
  accumulate = false,
): void {
  for (let i = 0; i < m; i++) {
    const ai = i * k;
    let count = 0;
    for (let p = 0; p < k; p++) if (a[ai + p] !== 0) idx[count++] = p * n;
    addIndexedRows(c, i * n, b, idx, count, n, 1, accumulate);
  }
}

/**
 * C = α·AᵀB (or C += α·AᵀB) for 0/1 bytes A (k×m): row i of C is α times the sum of the rows p of B
 * (k×n) with A[p,i] ≠ 0. `idx` is scratch of length ≥ k.
 */
export function binaryMatmulTransA(
  a: Uint8Array,
  b: Float32Array,
  c: Float32Array,
  m: number,
  k: number,
  n: number,
  idx: Int32Array,
  alpha = 1,
  accumulate = false,
): void {
  for (let i = 0; i < m; i++) {
    let count = 0;
    for (let p = 0; p < k; p++) if (a[p * m + i] !== 0) idx[count++] = p * n;
    addIndexedRows(c, i * n, b, idx, count, n, alpha, accumulate);
  }
}

/** out (n×m) = aᵀ for a (m×n), in 32×32 tiles. */
export function transpose(a: Float32Array, m: number, n: number, out: Float32Array): void {
  const T = 32;
  for (let i0 = 0; i0 < m; i0 += T) {
    const i1 = Math.min(m, i0 + T);
    for (let j0 = 0; j0 < n; j0 += T) {
      const j1 = Math.min(n, j0 + T);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * m + i] = a[i * n + j];
    }
  }
}

/*
 * Products by subset-sum tables ("four Russians"): for 0/1 bytes A, cut the k rows of B into groups of g
 * consecutive rows and tabulate, per group, the 2^g sums of its subsets of rows. Row i of A·B is then the
 * sum over groups of one table row each (picked by the g bits of A[i, group]): k/g row additions instead of
 * about k/2, for a table costing 2^g row additions per group to build. Worth it when many rows of A share
 * one B (AIS sweeps with a fixed W, CD batches); `chooseGroupSize` picks g.
 */

/** Floats in the subset-sum table of a k × n matrix with groups of g rows. */
export function subsetSumTableSize(k: number, n: number, g: number): number {
  return Math.ceil(k / g) * 2 ** g * n;
}

/**
 * The group size g ≤ maxGroup minimising the cost of a table product used for `rows` rows of A, or 0 when
 * the direct binary product is as cheap. Costs in row additions: direct ≈ rows·k·density; table
 * ⌈k/g⌉·(3·2^g + rows), building a table row counting three additions (it is written to memory, which
 * measured about three times slower than accumulating into a row kept in L1).
 */
export function chooseGroupSize(rows: number, k: number, density = 0.5, maxGroup = 6): number {
  let best = 0;
  let bestCost = 0.8 * rows * k * density;
  for (let g = 2; g <= maxGroup; g++) {
    const cost = Math.ceil(k / g) * (3 * 2 ** g + rows);
    if (cost < bestCost) {
      best = g;
      bestCost = cost;
    }
  }
  return best;
}

/**
 * The subset-sum table of B (k × n) for groups of g rows, into `out` (length ≥ subsetSumTableSize):
 * out[((grp·2^g) + mask)·n + j] = Σ_{t: bit t of mask, grp·g + t < k} B[(grp·g + t)·n + j].
 */
export function buildSubsetSums(b: Float32Array, k: number, n: number, g: number, out: Float32Array): void {
  const size = 2 ** g;
  const groups = Math.ceil(k / g);
  for (let grp = 0; grp < groups; grp++) {
    const base = grp * size * n;
    out.fill(0, base, base + n);
    for (let mask = 1; mask < size; mask++) {
      const low = mask & -mask;
      const t = 31 - Math.clz32(low);
      const prev = base + (mask ^ low) * n;
      const dst = base + mask * n;
      const row = grp * g + t;
      if (row < k) {
        const r = row * n;
        for (let j = 0; j < n; j++) out[dst + j] = out[prev + j] + b[r + j];
      } else out.copyWithin(dst, prev, prev + n);
    }
  }
}

/**
 * C = A·B (or C += A·B) for 0/1 bytes A (m × k) from the subset-sum table of B (k × n, groups of g).
 * `idx` is scratch of length ≥ ⌈k/g⌉.
 */
export function tableMatmul(
  a: Uint8Array,
  table: Float32Array,
  c: Float32Array,
  m: number,
  k: number,
  n: number,
  g: number,
  idx: Int32Array,
  accumulate = false,
): void {
  const size = 2 ** g;
  const groups = Math.ceil(k / g);
  for (let i = 0; i < m; i++) {
    const ai = i * k;
    let count = 0;
    for (let grp = 0; grp < groups; grp++) {
      const p0 = grp * g;
      const p1 = Math.min(k, p0 + g);
      let mask = 0;
      for (let p = p0; p < p1; p++) if (a[ai + p] !== 0) mask |= 1 << (p - p0);
      if (mask !== 0) idx[count++] = (grp * size + mask) * n;
    }
    addIndexedRows(c, i * n, table, idx, count, n, 1, accumulate);
  }
}

/**
 * C = α·AᵀB (or C += α·AᵀB) for 0/1 bytes A (k × m) from the subset-sum table of B (k × n, groups of g).
 * `idx` is scratch of length ≥ ⌈k/g⌉.
 */
export function tableMatmulTransA(
  a: Uint8Array,
  table: Float32Array,
  c: Float32Array,
  m: number,
  k: number,
  n: number,
  g: number,
  idx: Int32Array,
  alpha = 1,
  accumulate = false,
): void {
  const size = 2 ** g;
  const groups = Math.ceil(k / g);
  for (let i = 0; i < m; i++) {
    let count = 0;
    for (let grp = 0; grp < groups; grp++) {
      const p0 = grp * g;
      const p1 = Math.min(k, p0 + g);
      let mask = 0;
      for (let p = p0; p < p1; p++) if (a[p * m + i] !== 0) mask |= 1 << (p - p0);
      if (mask !== 0) idx[count++] = (grp * size + mask) * n;
    }
    addIndexedRows(c, i * n, table, idx, count, n, alpha, accumulate);
  }
}
