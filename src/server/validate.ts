// Strict validation of what agents send, against the schemas agents are documented to follow
// (model/report-schema.ts, model/event-schema.ts): ajv (already what fastify compiles its own
// schemas with), without coercion, defaults or removal of unknown properties, so what is
// stored is exactly what was sent. The first problem found is named with where it is.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { EVENT_JSON_SCHEMA } from '../model/event-schema.ts';
import { LIMITS } from '../model/limits.ts';
import type { ReportComponents } from '../model/report-components.ts';
import { REPORT_JSON_SCHEMA } from '../model/report-schema.ts';

export type Validation = { ok: true } | { ok: false; problem: string };

function compile(schema: object): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: false, coerceTypes: false, useDefaults: false });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  return ajv.compile(schema);
}

function describe(e: ErrorObject): string {
  const where = e.instancePath === '' ? 'the document' : e.instancePath;
  const extra =
    'additionalProperty' in e.params
      ? ` (${JSON.stringify(e.params.additionalProperty)})`
      : 'allowedValues' in e.params
        ? ` (${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')})`
        : '';
  return `${where}: ${e.message ?? 'is invalid'}${extra}`;
}

function validator(schema: object): (value: unknown) => Validation {
  let check: ValidateFunction | undefined;
  return (value) => {
    check ??= compile(schema);
    if (check(value)) return { ok: true };
    // With oneOf, the deepest error names the actual problem better than "must match exactly one schema".
    const errors = check.errors ?? [];
    const deepest = [...errors].sort((a, b) => b.instancePath.length - a.instancePath.length)[0];
    return { ok: false, problem: deepest ? describe(deepest) : 'does not match the schema' };
  };
}

const reportSchema = validator(REPORT_JSON_SCHEMA);

/**
 * The schema bounds each list of a component summary; its whole (modules of every binary, with
 * each binary's stdlib) is bounded here, as the agent bounds it, so one report cannot make its
 * ingest write an unbounded number of `components` rows.
 */
function componentsProblem(report: {
  inventory: Record<string, { components?: ReportComponents }>;
}): string | undefined {
  for (const [digest, entry] of Object.entries(report.inventory)) {
    const binaries = entry.components?.binaries ?? [];
    const total = binaries.reduce((n, b) => n + 1 + (b.main ? 1 : 0) + (b.modules?.length ?? 0), 0);
    if (total > LIMITS.reportComponents)
      return `/inventory/${digest}/components: ${total} modules, more than reportComponents (${LIMITS.reportComponents})`;
  }
  return undefined;
}

export function validateReport(value: unknown): Validation {
  const valid = reportSchema(value);
  if (!valid.ok) return valid;
  const problem = componentsProblem(value as Parameters<typeof componentsProblem>[0]);
  return problem ? { ok: false, problem } : valid;
}
export const validateEvent = validator(EVENT_JSON_SCHEMA);
