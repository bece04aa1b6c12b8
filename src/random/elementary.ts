/**
 * exp, log and log1p from + − × ÷ and exact bit operations only, so that another host or language doing
 * the same IEEE-754 double operations in the same order gets the same bits (native/src/elementary.h is
 * the C++ twin of portableExp and portableLog). Math.exp and Math.log are not usable for that: V8's and the C library's
 * differ in the last bit for a few percent of arguments, and so do Node 20's V8 (an fdlibm port) and a
 * recent Chromium's (glibc's results). Everything seeded that must agree between hosts uses these: the
 * random draws that the TypeScript and native paths share (src/random/chains.ts: the ziggurat's wedge and
 * tail, MALA's log u and acceptance probability) and the float64 math behind seeded results (log-space
 * weights, mixture energies, log Z, the gmm1d experiment), so a browser gets Node's numbers bit for bit.
 *
 * Accuracy: about 1 ulp for portableExp, portableLog and portableLog1p (tests compare with Math.exp, log
 * and log1p to 1 ulp), not correctly rounded; 0.51 ulp for portableExpFast.
 * Reduction as in Cody & Waite: log(2^e·m) = e·ln2 + log(m) with m ∈ (√½, √2], log(m) = 2 atanh(s),
 * s = (m − 1)/(m + 1), by its Taylor series in s²; exp(x) = 2^k·exp(r), k = ⌊x/ln2 + ½⌋, |r| ≤ ln2/2, by
 * the Taylor series of exp to degree 13. ln2 = LN2_HI + LN2_LO with LN2_HI's low 21 bits zero, so that
 * e·LN2_HI is exact for every exponent e. log1p(x) is log(u), u = 1 + x rounded, plus the rounding error
 * of u divided by u (as in fdlibm).
 *
 * Two exps. `portableExp` is the native twin's (the random layer, MH selection and the kernels shared with
 * the addon use it); its 13-term Horner chain is a long dependency chain, so in a summing loop (logsumexp)
 * it costs about 1.4× Math.exp. `portableExpFast`, for the float64 math (log-space weights, energies,
 * log Z), is table-driven as in glibc and ARM's optimized routines: x = (128k + j)·ln2/128 + r,
 * |r| ≤ ln2/256, e^x = 2^k · 2^{j/128} · e^r with 2^{j/128} from a table (T, the correctly rounded value,
 * and TAIL, its relative rounding error) and e^r − 1 by Taylor to degree 5 (truncation below 0.01 ulp):
 * 0.51 ulp, and about 0.45× Math.exp in the same loop. Each gives the same bits on every host; the two
 * differ from each other in the last bit for some arguments.
 *
 * Speed: the scalings by 2^k are products with exact powers of two from a table (POW2), not doubles
 * assembled from their words: writing one 32-bit word of a double and reading the whole double back defeats
 * the CPU's store-to-load forwarding and stalls each call until the previous one has retired (portableLog
 * took 6.5× Math.log in a loop, now 2.4×; portableExp 1.8× Math.exp, now 1.25×). The table holds the same
 * doubles, so the results are the same bits.
 */

const LN2_HI = 6.9314718036912381649e-1; // 0x3fe62e42 fee00000
const LN2_LO = 1.90821492927058770002e-10; // ln2 − LN2_HI
const INV_LN2 = 1.4426950408889634;
const SQRT2 = 1.4142135623730951;
const MIN_NORMAL = 2.2250738585072014e-308;
const TWO_POW_54 = 18014398509481984;
const TWO_POW_M64 = 5.421010862427522e-20;
const TWO_POW_M54 = 5.551115123125783e-17;
/** Above: exp overflows. Below EXP_MIN: exp is under half the least subnormal and rounds to 0. */
const EXP_MAX = 709.782712893384;
const EXP_MIN = -745.1332191019412;

// Series coefficients, each a correctly rounded quotient (the same double in every language).
const L1 = 2 / 3;
const L2 = 2 / 5;
const L3 = 2 / 7;
const L4 = 2 / 9;
const L5 = 2 / 11;
const L6 = 2 / 13;
const L7 = 2 / 15;
const L8 = 2 / 17;
const L9 = 2 / 19;
const L10 = 2 / 21;
const L11 = 2 / 23;
const E2 = 1 / 2;
const E3 = 1 / 6;
const E4 = 1 / 24;
const E5 = 1 / 120;
const E6 = 1 / 720;
const E7 = 1 / 5040;
const E8 = 1 / 40320;
const E9 = 1 / 362880;
const E10 = 1 / 3628800;
const E11 = 1 / 39916800;
const E12 = 1 / 479001600;
const E13 = 1 / 6227020800;

// The two 32-bit words of a double (little-endian hosts: word 1 holds sign, exponent and the top of the
// mantissa). Only read after a whole-double write (which the CPU forwards to the read).
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
F64[0] = 1;
if (U32[1] !== 0x3ff00000) throw new Error("src/random/elementary.ts assumes a little-endian host");

/** POW2[k + 1023] = 2^k for the integers k ∈ [−1023, 1023] (2^−1023 is subnormal, still exact). */
const POW2 = new Float64Array(2047);
POW2[1023] = 1;
for (let k = 1; k <= 1023; k++) {
  POW2[1023 + k] = POW2[1022 + k] * 2; // exact
  POW2[1023 - k] = POW2[1024 - k] * 0.5; // exact
}

/**
 * log(2^e·u) + c for a normal, finite u > 0 and a small correction c (0 for log; δ/u for log1p, where δ is
 * the rounding error of u = 1 + x): the reduction and series of the module comment.
 */
function logScaled(u: number, e: number, c: number): number {
  F64[0] = u;
  const be = (U32[1] >>> 20) - 1023; // u's binary exponent: u = 2^be·m, m ∈ [1, 2)
  e += be;
  let m = u * POW2[1023 - be]; // exact
  if (m > SQRT2) {
    m *= 0.5;
    e += 1;
  }
  const f = m - 1; // exact (Sterbenz)
  const s = f / (2 + f);
  const z = s * s;
  let t = L11;
  t = L10 + z * t;
  t = L9 + z * t;
  t = L8 + z * t;
  t = L7 + z * t;
  t = L6 + z * t;
  t = L5 + z * t;
  t = L4 + z * t;
  t = L3 + z * t;
  t = L2 + z * t;
  t = L1 + z * t;
  const r = z * t; // 2 atanh(s)/s − 2
  // log(1 + f) = 2 atanh(s) = f − (f²/2 − s·(f²/2 + r)), the form that keeps f's bits.
  const hfsq = 0.5 * f * f;
  return e * LN2_HI + (f - (hfsq - (s * (hfsq + r) + (e * LN2_LO + c))));
}

/** Natural logarithm (log(0) = −∞, log(x < 0) = NaN, log(∞) = ∞). */
export function portableLog(x: number): number {
  if (!(x > 0)) return x === 0 ? -Infinity : Number.NaN;
  if (x === Infinity) return x;
  // A subnormal x is first scaled into the normal range (exactly).
  return x < MIN_NORMAL ? logScaled(x * TWO_POW_54, -54, 0) : logScaled(x, 0, 0);
}

/** log(1 + x), accurate for small x (log1p(−1) = −∞, NaN below −1, log1p(∞) = ∞). */
export function portableLog1p(x: number): number {
  if (!(x > -1)) return x === -1 ? -Infinity : Number.NaN;
  if (x === Infinity) return x;
  // log1p(x) = x(1 − x/2 + …) rounds to x below 2^−54 (subnormals and ±0 included).
  if (Math.abs(x) < TWO_POW_M54) return x;
  const u = 1 + x;
  // The rounding error of u, exactly (Fast2Sum, larger operand first), relative to u.
  const c = (x > 1 ? 1 - (u - x) : x - (u - 1)) / u;
  return logScaled(u, 0, c);
}

/**
 * 2^(j/128) for j = 0..127, correctly rounded (T), and (2^(j/128) − T[j]) / T[j] rounded (TAIL): computed
 * with 80-digit decimal arithmetic (Python's decimal: (ln 2 · j/128).exp()); test/random/elementary.test.ts
 * checks both against 2^j by exact BigInt arithmetic.
 */
const T = new Float64Array([
  1.0, 1.0054299011128027, 1.0108892860517005, 1.016378314910953, 1.0218971486541166, 1.0274459491187637,
  1.0330248790212284, 1.0386341019613787, 1.0442737824274138, 1.0499440858006872, 1.0556451783605572,
  1.061377227289262, 1.0671404006768237, 1.0729348675259756, 1.0787607977571199, 1.0846183622133092,
  1.0905077326652577, 1.0964290818163769, 1.102382583307841, 1.1083684117236787, 1.1143867425958924,
  1.1204377524096067, 1.1265216186082418, 1.1326385195987192, 1.1387886347566916, 1.1449721444318042,
  1.1511892299529827, 1.1574400736337511, 1.1637248587775775, 1.1700437696832502, 1.1763969916502812,
  1.182784710984341, 1.189207115002721, 1.1956643920398273, 1.202156731452703, 1.2086843236265816,
  1.215247359980469, 1.2218460329727576, 1.22848053610687, 1.2351510639369334, 1.241857812073484,
  1.2486009771892048, 1.255380757024691, 1.2621973503942507, 1.2690509571917332, 1.275941778396392,
  1.2828700160787783, 1.2898358734066657, 1.2968395546510096, 1.3038812651919358, 1.3109612115247644,
  1.318079601266064, 1.3252366431597413, 1.3324325470831615, 1.339667524053303, 1.3469417862329458,
  1.3542555469368927, 1.3616090206382248, 1.3690024229745905, 1.3764359707545302, 1.383909881963832,
  1.3914243757719262, 1.3989796725383112, 1.4065759938190154, 1.4142135623730951, 1.4218926021691656,
  1.42961333839197, 1.4373759974489824, 1.4451808069770467, 1.4530279958490526, 1.460917794180647,
  1.4688504333369818, 1.4768261459394993, 1.4848451658727524, 1.4929077282912648, 1.5010140696264256,
  1.5091644275934228, 1.5173590411982147, 1.5255981507445384, 1.533881997840956, 1.5422108254079407,
  1.550584877685, 1.559004400237837, 1.567469639965553, 1.5759808451078865, 1.5845382652524937,
  1.593142151342267, 1.6017927556826934, 1.6104903319492543, 1.6192351351948637, 1.6280274218573478,
  1.6368674497669644, 1.645755478153965, 1.6546917676561943, 1.6636765803267364, 1.6727101796415966,
  1.681792830507429, 1.6909247992693053, 1.7001063537185235, 1.709337763100463, 1.718619298122478,
  1.7279512309618377, 1.7373338352737062, 1.746767386199169, 1.7562521603732995, 1.7657884359332727,
  1.7753764925265212, 1.785016611318935, 1.7947090750031072, 1.804454167806624, 1.8142521755003989,
  1.8241033854070534, 1.8340080864093424, 1.843966568958626, 1.8539791250833855, 1.864046048397789,
  1.8741676341103, 1.8843441790323345, 1.8945759815869656, 1.9048633418176741, 1.9152065613971474,
  1.925605943636125, 1.9360617934922943, 1.9465744175792332, 1.9571441241754002, 1.9677712232331759,
  1.978456026387951, 1.9891988469672663,
]);
const TAIL = new Float64Array([
  0.0, 9.447885451727066e-17, -1.507066976926039e-17, -5.679155082825012e-17, 4.9997448722726326e-17,
  -4.823683599994895e-17, 7.357846871247418e-18, 5.773230223741951e-17, 8.189317638195515e-17,
  5.326891139980878e-17, 1.6665881442326747e-18, -1.128113245461828e-17, -7.402825309426177e-17,
  -3.578659767309563e-18, -6.170654745608695e-17, 2.919139999949279e-17, -2.7939114859515733e-17,
  -5.399285355184285e-17, 4.776959425256223e-17, -7.927701432338473e-17, 9.341710609905046e-17,
  -5.534520675707472e-17, 4.585670326662351e-17, 2.8582430411116143e-17, 7.826573258636076e-17,
  4.053626906769216e-17, 2.823784425951061e-17, -7.882802262487991e-17, 3.2904726646008416e-17,
  -1.5792094703347882e-18, 4.721368121170128e-17, 1.3045277096919659e-17, 3.3484623336251524e-17,
  3.8611199774925664e-17, 5.527550048505249e-17, -3.927184172445234e-17, -6.346552106729483e-17,
  -8.684417614865944e-17, -1.5456342819397733e-17, -8.70763476495455e-17, 3.750854201303127e-17,
  -6.616854503526488e-17, -5.346099009198751e-18, -2.443726321015018e-17, 2.1023049675215714e-18,
  7.771067937501065e-17, 1.3357510088834541e-17, 6.938291696959204e-17, 1.9572585293112036e-17,
  6.632256961675804e-17, -5.478069123926778e-17, -4.140839310392624e-17, -2.1571477251208752e-17,
  -3.8287766552120535e-17, 6.663804589232195e-17, 2.3936187400285282e-17, 5.68648095791174e-17,
  1.1264523354521684e-18, 7.007875046906994e-17, -5.0119214278381254e-17, -4.8923067513522756e-17,
  -3.5260089953269434e-17, -6.872303720902018e-17, 5.001446664133532e-18, -6.835808657661922e-17,
  -1.1307344092910212e-17, -8.416011634717156e-18, -2.9247977035436566e-17, -2.092304381843353e-17,
  -3.9778645875427124e-17, -3.833464968654295e-17, 5.763611164480894e-17, -2.3591094770850053e-17,
  7.260074661098575e-17, 9.50689710108796e-18, -4.272956133839906e-17, -6.735219232374683e-17,
  -2.8396044410430936e-17, -7.226635472101257e-17, 5.786121003395918e-17, 5.1548301170786783e-17,
  -9.416257568878152e-18, 2.4253985766689806e-17, -6.604314051707707e-17, -6.432131775424189e-18,
  -1.2204007601863921e-17, -6.336161863401293e-17, -3.7800879246373815e-17, 1.5341410053603723e-17,
  1.2932855580427452e-17, -4.123367330661149e-17, 4.703083974463456e-17, -6.152602891550265e-17,
  5.827849326195279e-17, 3.540948262646183e-17, -3.2741571320938764e-17, 4.875160526227062e-17,
  -5.718569790077838e-17, -4.719539664590972e-18, -5.773451958805706e-17, -1.0772487078934056e-17,
  -6.221808618533911e-17, 1.821405440362259e-17, -6.155536546227639e-17, 1.685487290628973e-17,
  5.3581249177694816e-17, 3.621615935336894e-17, 8.588379527574144e-18, 1.01562190116415e-17,
  -2.869134889187244e-17, -5.495118966122005e-17, -5.56965572431627e-17, 1.790126907604513e-17,
  -3.2211766346200164e-17, 5.265370768556274e-17, 3.5089866402403033e-17, -3.266924100901318e-17,
  -4.3657593008079375e-17, 1.7963932659833022e-17, 3.4300925275214166e-17, -5.545065618639427e-17,
  -5.149009745457733e-17, 5.336805878514151e-17, 3.498978661192973e-17, 4.5784915277060095e-17,
  -5.241934575393899e-17, 2.0414278897578303e-17, 4.124842848606488e-18,
]);
/** The tables of `portableExpFast`, for tests (read only). */
export const EXP_FAST_TABLES: { readonly t: Float64Array; readonly tail: Float64Array } = {
  t: T,
  tail: TAIL,
};
const INV_LN2_128 = 128 / 0.6931471805599453; // 128/ln2, rounded: it only chooses kd
const LN2_HI_128 = LN2_HI / 128; // exact, 32 significant bits: kd·LN2_HI_128 is exact
const LN2_LO_128 = LN2_LO / 128;

/**
 * e^x, table-driven (see the module comment): the exp of the float64 math (exp(−∞) = 0, exp(∞) = ∞, NaN for
 * NaN). About 0.51 ulp.
 */
export function portableExpFast(x: number): number {
  if (!(x <= EXP_MAX)) return x !== x ? x : Infinity;
  if (x < EXP_MIN) return 0;
  const kd = Math.round(x * INV_LN2_128); // an integer, |kd| ≤ 137 600
  const r = x - kd * LN2_HI_128 - kd * LN2_LO_128; // |r| ≤ ln2/256 (+ rounding)
  const ki = kd | 0;
  const j = ki & 127;
  const k = ki >> 7; // ⌊ki / 128⌋
  const r2 = r * r;
  // e^r·(1 + TAIL) − 1, in this order (Estrin's scheme: a short dependency chain).
  const q = TAIL[j] + r + r2 * (E2 + r * E3) + r2 * r2 * (E4 + r * E5);
  if (k > 1023) {
    const s = T[j] * POW2[k + 1022]; // 2^(k−1)·2^(j/128), then ×2 (exact)
    return (s + s * q) * 2;
  }
  if (k < -1022) {
    const s = T[j] * POW2[k + 1087]; // 2^(k+64)·2^(j/128), then ×2^−64, rounding into the subnormals
    return (s + s * q) * TWO_POW_M64;
  }
  const s = T[j] * POW2[k + 1023]; // exact
  return s + s * q;
}

/** e^x, the native twin's (exp(−∞) = 0, exp(∞) = ∞, NaN for NaN). */
export function portableExp(x: number): number {
  if (x !== x) return x;
  if (x > EXP_MAX) return Infinity;
  if (x < EXP_MIN) return 0;
  const k = Math.floor(x * INV_LN2 + 0.5);
  const r = x - k * LN2_HI - k * LN2_LO;
  // Horner, innermost first (the same order in native/src/elementary.h).
  let p = E13;
  p = E12 + r * p;
  p = E11 + r * p;
  p = E10 + r * p;
  p = E9 + r * p;
  p = E8 + r * p;
  p = E7 + r * p;
  p = E6 + r * p;
  p = E5 + r * p;
  p = E4 + r * p;
  p = E3 + r * p;
  p = E2 + r * p;
  p = 1 + r * p;
  p = 1 + r * p;
  if (k > 1023) return p * POW2[k + 1022] * 2; // p·2^(k−1)·2
  if (k < -1022) return p * POW2[k + 1087] * TWO_POW_M64; // p·2^(k+64)·2^−64: one rounding, into the subnormals
  return p * POW2[k + 1023];
}
