/**
 * @file Scalar functions that JavaScript's Math lacks, computed to full float64 accuracy for the
 * rule table (rules.ts): the error function and rounding half to even. Imports nothing.
 */

// The error function erf x = (2/√π) ∫₀ˣ e^(−t²) dt by the rational approximations of fdlibm's
// s_erf.c (the algorithm C libraries use), accurate to about 1 ulp. Four intervals of |x|:
//   [0, 0.84375)      erf x = x + x·P(x²)/Q(x²)
//   [0.84375, 1.25)   erf x = c + P(s)/Q(s),  s = |x| − 1, c = erf(1) rounded to float32
//   [1.25, 6)         erf x = 1 − e^(−x² − 0.5625 + R(1/x²)/S(1/x²)) / x  (erfc's asymptotic form)
//   [6, ∞)            erf x = 1 (to float64 precision)
// and erf(−x) = −erf(x).

const EFX = 0.1283791670955126; // 2/√π − 1
const ERX = 0.8450629115104675; // c

// [0, 0.84375): x + x·P(x²)/Q(x²)
const [pp0, pp1, pp2, pp3, pp4] = [
  0.12837916709551256, -0.3250421072470015, -0.02848174957559851, -0.005770270296489442, -2.3763016656650163e-5,
] as const;
const [qq1, qq2, qq3, qq4, qq5] = [
  0.39791722395915535, 0.0650222499887673, 0.005081306281875766, 0.00013249473800432164, -3.960228278775368e-6,
] as const;
// [0.84375, 1.25): c + P(s)/Q(s), s = |x| − 1
const [pa0, pa1, pa2, pa3, pa4, pa5, pa6] = [
  -0.0023621185607526594, 0.41485611868374833, -0.3722078760357013, 0.31834661990116175, -0.11089469428239668,
  0.035478304325618236, -0.002166375594868791,
] as const;
const [qa1, qa2, qa3, qa4, qa5, qa6] = [
  0.10642088040084423, 0.540397917702171, 0.07182865441419627, 0.12617121980876164, 0.01363708391202905,
  0.011984499846799107,
] as const;
// [1.25, 1/0.35): R(1/x²)/S(1/x²)
const [ra0, ra1, ra2, ra3, ra4, ra5, ra6, ra7] = [
  -0.009864944034847148, -0.6938585727071818, -10.558626225323291, -62.375332450326006, -162.39666946257347,
  -184.60509290671104, -81.2874355063066, -9.814329344169145,
] as const;
const [sa1, sa2, sa3, sa4, sa5, sa6, sa7, sa8] = [
  19.651271667439257, 137.65775414351904, 434.56587747522923, 645.3872717332679, 429.00814002756783, 108.63500554177944,
  6.570249770319282, -0.0604244152148581,
] as const;
// [1/0.35, 6): R(1/x²)/S(1/x²)
const [rb0, rb1, rb2, rb3, rb4, rb5, rb6] = [
  -0.0098649429247001, -0.799283237680523, -17.757954917754752, -160.63638485582192, -637.5664433683896,
  -1025.0951316110772, -483.5191916086514,
] as const;
const [sb1, sb2, sb3, sb4, sb5, sb6, sb7] = [
  30.33806074348246, 325.7925129965739, 1536.729586084437, 3199.8582195085955, 2553.0504064331644, 474.52854120695537,
  -22.44095244658582,
] as const;

/** The error function, to about 1 ulp in float64. */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (!(a < 6)) return Number.isNaN(x) ? x : Math.sign(x); // erf(±∞) = ±1; 1 − erf(6) < 2⁻⁵³
  if (a < 0.84375) {
    // NOTE: below 2⁻²⁸ the series' next term x³/3 is under half an ulp of x: erf x = x·2/√π.
    if (a < 2 ** -28) return x + EFX * x;
    const z = x * x;
    return (
      x +
      x *
        ((pp0 + z * (pp1 + z * (pp2 + z * (pp3 + z * pp4)))) /
          (1 + z * (qq1 + z * (qq2 + z * (qq3 + z * (qq4 + z * qq5))))))
    );
  }
  if (a < 1.25) {
    const s = a - 1;
    const r =
      ERX +
      (pa0 + s * (pa1 + s * (pa2 + s * (pa3 + s * (pa4 + s * (pa5 + s * pa6)))))) /
        (1 + s * (qa1 + s * (qa2 + s * (qa3 + s * (qa4 + s * (qa5 + s * qa6))))));
    return x < 0 ? -r : r;
  }
  const s = 1 / (a * a);
  const ratio =
    a < 1 / 0.35
      ? (ra0 + s * (ra1 + s * (ra2 + s * (ra3 + s * (ra4 + s * (ra5 + s * (ra6 + s * ra7))))))) /
        (1 + s * (sa1 + s * (sa2 + s * (sa3 + s * (sa4 + s * (sa5 + s * (sa6 + s * (sa7 + s * sa8))))))))
      : (rb0 + s * (rb1 + s * (rb2 + s * (rb3 + s * (rb4 + s * (rb5 + s * rb6)))))) /
        (1 + s * (sb1 + s * (sb2 + s * (sb3 + s * (sb4 + s * (sb5 + s * (sb6 + s * sb7)))))));
  // NOTE: fdlibm splits e^(−x²) into two exponentials so that erfc keeps its relative accuracy.
  // erf does not need it: r < 0.08 here, so the rounding of −x² (a few ulps of r) lies far below
  // the last place of 1 − r. One exponential halves the cost of the tail.
  const r = Math.exp(-a * a - 0.5625 + ratio) / a;
  return x < 0 ? r - 1 : 1 - r;
}

/** x rounded to the nearest integer, halves to the even one (as PyTorch and NumPy round). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // halves go up, towards +∞
  // NOTE: r − x is exact for |x| < 2⁵²; above, every float64 is an integer and r = x.
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
