// Every answer of the query API checked against the OpenAPI document the server serves: its
// status must be declared for the operation, its content type must be one the operation
// declares for that status, and its body must match that content's schema (JSON Schema
// 2020-12, ajv). `apiGet` is the one way the API tests make requests, so none goes unchecked.
import assert from 'node:assert/strict';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../src/server/api/openapi.ts';

const BASE = 'https://k3sguard.dev/openapi.json';

type Doc = ReturnType<typeof openApiDocument> & { paths: Record<string, Record<string, Operation>> };
interface Operation {
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}

export interface ApiAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly contentType: string;
  /** Parsed JSON, or the text of any other content type. */
  readonly body: unknown;
  readonly text: string;
}

export class OpenApiChecker {
  readonly doc: Doc;
  readonly #ajv: Ajv2020;
  readonly #validators = new Map<string, ValidateFunction>();
  readonly #routes: Array<{ template: string; pattern: RegExp }>;
  /** `METHOD template status content-type` of every answer checked: what the suite covered. */
  readonly seen = new Set<string>();

  constructor(doc: unknown) {
    this.doc = doc as Doc;
    this.#ajv = new Ajv2020({ strict: false, allErrors: true });
    (addFormats as unknown as (a: Ajv2020) => void)(this.#ajv);
    this.#ajv.addSchema({ ...(doc as object), $id: BASE });
    this.#routes = Object.keys(this.doc.paths).map((template) => ({
      template,
      pattern: new RegExp(`^${template.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+')}$`),
    }));
  }

  /** Fails the test unless the answer is one the document declares for this request. */
  check(method: string, url: string, answer: ApiAnswer): void {
    const path = new URL(url, 'http://x').pathname;
    const route = this.#routes.find((r) => r.pattern.test(path));
    assert.ok(route, `${method} ${path}: no path of the OpenAPI document matches`);
    const op = this.doc.paths[route.template]?.[method.toLowerCase()];
    assert.ok(op, `${method} ${route.template}: not in the OpenAPI document`);
    const response = op.responses[String(answer.status)] ?? op.responses.default;
    assert.ok(
      response,
      `${method} ${route.template}: status ${answer.status} is not declared (body: ${answer.text.slice(0, 300)})`,
    );
    const media = answer.contentType.split(';')[0]?.trim() ?? '';
    const content = response.content?.[media];
    assert.ok(
      content,
      `${method} ${route.template} ${answer.status}: content type ${media || '(none)'} is not declared (${Object.keys(response.content ?? {})})`,
    );
    const pointer = [
      'paths',
      route.template,
      method.toLowerCase(),
      'responses',
      String(answer.status),
      'content',
      media,
      'schema',
    ]
      .map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1'))
      .join('/');
    const ref = `${BASE}#/${pointer}`;
    let validate = this.#validators.get(ref);
    if (!validate) {
      validate = this.#ajv.compile({ $ref: ref });
      this.#validators.set(ref, validate);
    }
    const ok = validate(answer.body);
    assert.ok(
      ok,
      `${method} ${path} ${answer.status} ${media}: the body does not match the OpenAPI schema: ${this.#ajv.errorsText(validate.errors)}\n${answer.text.slice(0, 500)}`,
    );
    this.seen.add(`${method} ${route.template} ${answer.status} ${media}`);
  }
}

let shared: OpenApiChecker | undefined;

/** One checker per test process, from the same document the server serves. */
export function openApiChecker(): OpenApiChecker {
  shared ??= new OpenApiChecker(openApiDocument());
  return shared;
}

/** A GET to the API, its answer checked against the document. */
export async function apiGet(base: string, path: string, headers: Record<string, string> = {}): Promise<ApiAnswer> {
  const res = await fetch(`${base}${path}`, { headers, redirect: 'manual', signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  const body = contentType.startsWith('application/json') ? (JSON.parse(text) as unknown) : text;
  const answer = { status: res.status, headers: res.headers, contentType, body, text };
  openApiChecker().check('GET', path, answer);
  return answer;
}
