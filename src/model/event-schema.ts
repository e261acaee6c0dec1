// The agent's event's JSON schema, `k3sguard/event@1` (docs/agent.md "Events"): a finding that is
// new or resolved, or containerd that stopped or resumes answering. The fleet server validates
// what agents POST to /api/v1/events against it; `npm run docs` writes docs/event-schema.json.
import { REPORT_JSON_SCHEMA } from './report-schema.ts';

const { digest: _digest, ...definitions } = REPORT_JSON_SCHEMA.definitions;
const hex64 = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;
const time = { type: 'string', format: 'date-time' } as const;
const node = {
  type: 'object',
  additionalProperties: false,
  required: ['hostname'],
  properties: {
    hostname: { type: 'string', minLength: 1 },
    machineId: { type: 'string', pattern: '^[0-9a-f]{32}$' },
  },
} as const;

export const EVENT_JSON_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://k3sguard.dev/schema/event-1.json',
  title: 'k3sguard agent event (k3sguard/event@1)',
  description: 'One event of `k3sguard agent` (docs/agent.md): a finding new or resolved, or a status change.',
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['schema', 'id', 'type', 'status', 'time', 'node', 'key', 'firstSeen', 'lastSeen', 'finding'],
      properties: {
        schema: { const: 'k3sguard/event@1' },
        id: hex64,
        type: { const: 'finding' },
        status: { enum: ['new', 'resolved'] },
        time,
        node,
        key: hex64,
        firstSeen: time,
        lastSeen: time,
        finding: { $ref: '#/definitions/finding' },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['schema', 'id', 'type', 'component', 'ok', 'message', 'time', 'node'],
      properties: {
        schema: { const: 'k3sguard/event@1' },
        id: hex64,
        type: { const: 'status' },
        component: { const: 'containerd' },
        ok: { type: 'boolean' },
        message: { type: 'string' },
        time,
        node,
      },
    },
  ],
  definitions,
} as const;
