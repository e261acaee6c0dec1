// A route's query and path parameters, read as its OpenAPI operation declares them and nothing
// else: an undeclared or repeated parameter, a value of the wrong type, out of range or
// malformed is a 400 naming the parameter and what it expects. The schemas of openapi.ts use a
// small subset of JSON Schema (type integer/boolean/string, enum, minimum, maximum, minLength,
// maxLength, the time form); anything else there is a programming error, caught at start.
import { quoteControls } from '../../model/quote.ts';
import { Refusal } from '../refusal.ts';
import type { Parameter, QueryOperation } from './operations.ts';

export type ParameterValue = string | number | boolean;

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const KNOWN = new Set(['type', 'enum', 'minimum', 'maximum', 'minLength', 'maxLength', 'anyOf']);

/** Throws at start when openapi.ts declares what this reader does not check. */
export function checkDeclarations(ops: readonly QueryOperation[]): void {
  for (const op of ops) {
    for (const p of op.parameters) {
      const unknown = Object.keys(p.schema).filter((k) => !KNOWN.has(k));
      if (unknown.length > 0) throw new Error(`${op.operationId} ${p.name}: unsupported schema keywords ${unknown}`);
    }
  }
}

/** A time parameter as the stored times are written (ISO-8601 UTC with milliseconds), to compare as text. */
function isoTime(text: string): string | undefined {
  if (DATE.test(text)) {
    const t = Date.parse(`${text}T00:00:00.000Z`);
    return Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== text ? undefined : new Date(t).toISOString();
  }
  if (!DATE_TIME.test(text)) return undefined;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

function read(p: Parameter, raw: string): ParameterValue {
  const s = p.schema as {
    type?: string;
    enum?: readonly string[];
    minimum?: number;
    maximum?: number;
    minLength?: number;
    maxLength?: number;
    anyOf?: unknown;
  };
  const where = p.in === 'query' ? `?${p.name}` : p.name;
  const shown = quoteControls(raw.length > 80 ? `${raw.slice(0, 80)}...` : raw);
  const bad = (expected: string) => new Refusal(400, 'BAD_QUERY', `${where}=${shown}: expected ${expected}`);
  if (s.enum) {
    if (!s.enum.includes(raw)) throw bad(`one of ${s.enum.join(', ')}`);
    return raw;
  }
  if (s.anyOf) {
    const t = isoTime(raw);
    if (t === undefined)
      throw bad('an ISO-8601 date-time with its offset (2026-12-03T10:00:00Z) or a date (2026-12-03)');
    return t;
  }
  if (s.type === 'integer') {
    const n = /^-?\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
    const range =
      s.maximum !== undefined
        ? `a whole number from ${s.minimum ?? 0} to ${s.maximum}`
        : `a whole number from ${s.minimum ?? 0}`;
    if (
      !Number.isSafeInteger(n) ||
      (s.minimum !== undefined && n < s.minimum) ||
      (s.maximum !== undefined && n > s.maximum)
    ) {
      throw bad(range);
    }
    return n;
  }
  if (s.type === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw bad('true or false');
    return raw === 'true';
  }
  const length = [...raw].length;
  if (s.minLength !== undefined && length < s.minLength)
    throw bad(`at least ${s.minLength} character${s.minLength === 1 ? '' : 's'}`);
  if (s.maxLength !== undefined && length > s.maxLength) throw bad(`at most ${s.maxLength} characters`);
  return raw;
}

/** The declared parameters of the request, typed; a Refusal (400) for anything else. */
export function readParameters(
  op: QueryOperation,
  query: Record<string, unknown>,
  path: Record<string, unknown>,
): Record<string, ParameterValue> {
  const declared = new Map(op.parameters.filter((p) => p.in === 'query').map((p) => [p.name, p]));
  const values: Record<string, ParameterValue> = {};
  for (const [name, raw] of Object.entries(query)) {
    const p = declared.get(name);
    if (!p) {
      const known = [...declared.keys()];
      throw new Refusal(
        400,
        'BAD_QUERY',
        `unknown query parameter ${quoteControls(JSON.stringify(name))}: ${known.length > 0 ? `this route takes ${known.join(', ')}` : 'this route takes none'}`,
      );
    }
    if (typeof raw !== 'string') throw new Refusal(400, 'BAD_QUERY', `?${name}: given more than once`);
    values[name] = read(p, raw);
  }
  for (const p of op.parameters) {
    if (p.in === 'path') {
      const raw = path[p.name];
      if (typeof raw === 'string') values[p.name] = read(p, raw);
    }
    if (p.required && values[p.name] === undefined) {
      throw new Refusal(400, 'BAD_QUERY', `${p.in === 'query' ? '?' : ''}${p.name} is required: ${p.description}`);
    }
  }
  return values;
}
