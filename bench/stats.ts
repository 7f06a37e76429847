// Summary statistics for the benchmarks, from simple-statistics (its quantile: the nearest rank, the mean of the two
// middle values when the rank falls between them). Invariant: an empty sample gives NaN everywhere, never a throw.
import { max, mean, min, quantileSorted } from 'simple-statistics';

/** The p-th percentile (0..100); NaN for an empty sample. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  return quantileSorted([...values].sort((a, b) => a - b), p / 100);
}

export interface Summary {
  count: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { count: 0, min: NaN, p50: NaN, p95: NaN, p99: NaN, max: NaN, mean: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    min: min(sorted),
    p50: quantileSorted(sorted, 0.5),
    p95: quantileSorted(sorted, 0.95),
    p99: quantileSorted(sorted, 0.99),
    max: max(sorted),
    mean: mean(sorted),
  };
}

/** Rounds for display: one decimal below 100, integers above. */
export const fmt = (n: number, unit = ''): string => (Number.isFinite(n) ? `${n < 100 ? n.toFixed(1) : Math.round(n)}${unit}` : 'n/a');
