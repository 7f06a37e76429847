// The time range filter shared by the analytics page and its JSON API.
import { z } from 'zod';

export const RANGES = { '1': 'last 24 hours', '7': 'last 7 days', '30': 'last 30 days', '90': 'last 90 days', '365': 'last year' } as const;
export const rangeSchema = z.enum(Object.keys(RANGES) as [keyof typeof RANGES, ...(keyof typeof RANGES)[]]).default('30');
export type Range = z.infer<typeof rangeSchema>;

export const sinceOf = (days: Range, now = Date.now()) => new Date(now - Number(days) * 86_400_000);
