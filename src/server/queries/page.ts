// Paging of the fleet queries: `limit` rows from `offset`, with the total, so a list of 10,000
// nodes is read a page at a time (and a CSV export asks for up to serverQueryRows at once).
import { LIMITS } from '../../model/limits.ts';

export const DEFAULT_PAGE = 100;

export interface PageRequest {
  readonly limit?: number;
  readonly offset?: number;
}

export interface Page<T> {
  readonly total: number;
  readonly limit: number;
  readonly offset: number;
  readonly items: T[];
}

/** The request's limit and offset, bounded (the API refuses what is out of range before this). */
export function pageOf(req: PageRequest = {}): { limit: number; offset: number } {
  const limit = Math.min(Math.max(1, Math.trunc(req.limit ?? DEFAULT_PAGE)), LIMITS.serverQueryRows);
  const offset = Math.max(0, Math.trunc(req.offset ?? 0));
  return { limit, offset };
}

/** `?, ?, ?` for an IN list of n values. */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

/** A JSON array of strings stored as text (aliases); [] for anything else. */
export function stringArray(text: string | null): string[] {
  if (!text) return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}
