// Strict validation of what agents send, against the schemas agents are documented to follow
// (model/report-schema.ts, model/event-schema.ts): ajv (already what fastify compiles its own
// schemas with), without coercion, defaults or removal of unknown properties, so what is
// stored is exactly what was sent. The first problem found is named with where it is.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { EVENT_JSON_SCHEMA } from '../model/event-schema.ts';
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

export const validateReport = validator(REPORT_JSON_SCHEMA);
export const validateEvent = validator(EVENT_JSON_SCHEMA);
