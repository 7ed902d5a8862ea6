// The error function for the reference forward pass (Erf, exact Gelu), to an
// absolute error of about 1e-15: far below the float32 resolution every runtime
// computes in, so the reference stays the oracle.

/**
 * erf(x) = 2/√π · e^(−x²) · Σ_{n≥0} 2ⁿ x^(2n+1) / (1·3·…·(2n+1)) (Abramowitz & Stegun 7.1.6).
 * Every term is positive, so the sum has no cancellation; it is summed until the
 * terms stop mattering; the rounding of x² and e^(−x²) leaves ~1e-15 near |x| = 6.
 * Past |x| = 6, 1 − |erf(x)| < 3·10⁻¹⁷, below a float64's resolution at 1.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  if (a >= 6) return Math.sign(x);
  let term = a;
  let sum = a;
  for (let n = 1; term > sum * 1e-17; n++) {
    term *= (2 * a * a) / (2 * n + 1);
    sum += term;
  }
  return Math.sign(x) * Math.min(1, (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * sum);
}
