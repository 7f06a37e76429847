// The statistics of an experiment, on maintained packages: @stdlib (normal CDF and quantile, Kruskal-Wallis, which
// for two groups is the Mann-Whitney U test in its normal approximation with the tie correction) and
// simple-statistics (quantiles). Rates: two-proportion z-test (pooled standard error) with a Wald interval of the
// difference; times and costs: Mann-Whitney, with a bootstrap interval of the difference in medians (seeded: the
// same data always gives the same interval). Fixed horizon: sample sizes are planned before the start.
// Invariants: pure functions of their inputs; null (never NaN) where the data cannot support a number.
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import kruskalTest from '@stdlib/stats-kruskal-test';
import { median, quantile } from 'simple-statistics';

const phi = (z: number) => normalCdf(z, 0, 1);
const zq = (p: number) => normalQuantile(p, 0, 1);

export interface Comparison {
  /** The treatment's value minus the control's (rates: proportions; times/costs: medians). */
  diff: number | null;
  ci: [number, number] | null;
  pValue: number | null;
  statistic: number | null;
}

/** Two-proportion z-test of x2/n2 against x1/n1 (two-sided), and a (1 - alpha) Wald interval of p2 - p1. */
export function twoProportion(x1: number, n1: number, x2: number, n2: number, alpha = 0.05): Comparison {
  if (n1 < 1 || n2 < 1) return { diff: null, ci: null, pValue: null, statistic: null };
  const p1 = x1 / n1, p2 = x2 / n2, diff = p2 - p1;
  const pooled = (x1 + x2) / (n1 + n2);
  const se0 = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const se = Math.sqrt((p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2);
  const z = se0 > 0 ? diff / se0 : 0;
  const k = zq(1 - alpha / 2);
  return { diff, ci: [diff - k * se, diff + k * se], pValue: se0 > 0 ? 2 * (1 - phi(Math.abs(z))) : 1, statistic: z };
}

/** A small seeded PRNG (mulberry32): bootstrap intervals are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mann-Whitney (as two-group Kruskal-Wallis) of b against a, and a bootstrap interval of median(b) - median(a). */
export function rankComparison(a: number[], b: number[], alpha = 0.05, resamples = 2000, seed = 19): Comparison {
  if (a.length < 2 || b.length < 2) return { diff: null, ci: null, pValue: null, statistic: null };
  const diff = median(b) - median(a);
  const allSame = new Set([...a, ...b]).size === 1;
  const test = allSame ? undefined : kruskalTest(a, b, { alpha });
  const rnd = prng(seed);
  const draw = (xs: number[]) => median(Array.from(xs, () => xs[Math.floor(rnd() * xs.length)]!));
  const diffs = Array.from({ length: resamples }, () => draw(b) - draw(a));
  return { diff, ci: [quantile(diffs, alpha / 2), quantile(diffs, 1 - alpha / 2)], pValue: test ? test.pValue : 1, statistic: test ? test.statistic : 0 };
}

/** Per-arm sample size to detect an absolute difference `delta` from rate `p1` (two-sided, fixed horizon). */
export function sampleSizeRate(p1: number, delta: number, alpha = 0.05, power = 0.8): number {
  const p2 = Math.min(0.999, Math.max(0.001, p1 + delta));
  const pbar = (p1 + p2) / 2;
  const n = (zq(1 - alpha / 2) * Math.sqrt(2 * pbar * (1 - pbar)) + zq(power) * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (p2 - p1) ** 2;
  return Math.ceil(n);
}

/**
 * Per-arm sample size to detect a shift of `delta` in a measure with standard deviation `sd` with Mann-Whitney: the
 * two-sample z formula divided by the test's asymptotic relative efficiency under normality (3/pi).
 */
export function sampleSizeShift(sd: number, delta: number, alpha = 0.05, power = 0.8): number {
  if (!(sd > 0) || !(delta > 0)) return 0;
  return Math.ceil(((2 * (zq(1 - alpha / 2) + zq(power)) ** 2 * sd ** 2) / delta ** 2) * (Math.PI / 3));
}
