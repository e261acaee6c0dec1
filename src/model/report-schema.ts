// The node report's JSON schema, `k3sguard/report@1` (docs/agent.md): the one source of
// docs/report-schema.json (`npm run docs` writes it) and of the fleet server's validation, so the
// document agents are told to send and the one the server accepts cannot drift apart.
import { LIMITS } from './limits.ts';

export const REPORT_JSON_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://k3sguard.dev/schema/report-1.json',
  title: 'k3sguard node report (k3sguard/report@1)',
  description:
    'What one check of `k3sguard agent` saw on one node (docs/agent.md). Everything with a digest is described once in `inventory`, keyed by that digest, and referred to by it elsewhere, so a fleet server stores one entry per distinct binary or image, not one per node.',
  type: 'object',
  additionalProperties: false,
  required: [
    'schema',
    'tool',
    'node',
    'check',
    'containerd',
    'inventory',
    'processes',
    'images',
    'containers',
    'findings',
    'problems',
    'summary',
  ],
  properties: {
    schema: {
      const: 'k3sguard/report@1',
    },
    tool: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'version'],
      properties: {
        name: {
          const: 'k3sguard',
        },
        version: {
          type: 'string',
          minLength: 1,
        },
      },
    },
    node: {
      type: 'object',
      additionalProperties: false,
      required: ['hostname', 'root', 'k3s'],
      properties: {
        hostname: {
          type: 'string',
          minLength: 1,
        },
        machineId: {
          type: 'string',
          pattern: '^[0-9a-f]{32}$',
          description: '/etc/machine-id of the node, when readable',
        },
        root: {
          type: 'string',
          description: "where the agent read the node's files (/ on the node itself)",
        },
        k3s: {
          type: 'object',
          additionalProperties: false,
          required: ['role'],
          properties: {
            version: {
              type: 'string',
              description: 'the K3s version built into the installed binary',
            },
            role: {
              enum: ['server', 'agent', 'unknown'],
              description: "from the K3s unit's ExecStart",
            },
            binary: {
              type: 'object',
              additionalProperties: false,
              required: ['path', 'digest'],
              properties: {
                path: {
                  type: 'string',
                },
                digest: {
                  $ref: '#/definitions/digest',
                },
              },
            },
          },
        },
      },
    },
    check: {
      type: 'object',
      additionalProperties: false,
      required: ['startedAt', 'finishedAt', 'durationMs'],
      properties: {
        startedAt: {
          type: 'string',
          format: 'date-time',
        },
        finishedAt: {
          type: 'string',
          format: 'date-time',
        },
        durationMs: {
          type: 'integer',
          minimum: 0,
        },
      },
    },
    containerd: {
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['ok', 'version'],
          properties: {
            ok: {
              const: true,
            },
            version: {
              type: 'string',
            },
          },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['ok', 'code', 'message'],
          properties: {
            ok: {
              const: false,
            },
            code: {
              type: 'string',
              description:
                'CONTAINERD_NO_SOCKET, CONTAINERD_DENIED, CONTAINERD_UNAVAILABLE, CONTAINERD_TIMEOUT, CONTAINERD_PROTOCOL',
            },
            message: {
              type: 'string',
            },
          },
        },
      ],
    },
    inventory: {
      type: 'object',
      description: 'One entry per distinct digest.',
      propertyNames: {
        $ref: '#/definitions/digest',
      },
      additionalProperties: {
        oneOf: [
          {
            type: 'object',
            additionalProperties: false,
            required: ['kind', 'names'],
            properties: {
              kind: {
                const: 'k3s-binary',
              },
              names: {
                $ref: '#/definitions/names',
              },
              k3sVersion: {
                type: 'string',
              },
              bundle: {
                type: 'string',
                pattern: '^[0-9a-f]{64}$',
                description: 'the data/<hash> its embedded bundle extracts to',
              },
              components: {
                $ref: '#/definitions/components',
              },
            },
          },
          {
            type: 'object',
            additionalProperties: false,
            required: ['kind', 'names'],
            properties: {
              kind: {
                const: 'executable',
              },
              names: {
                $ref: '#/definitions/names',
              },
            },
          },
          {
            type: 'object',
            additionalProperties: false,
            required: ['kind', 'names', 'verdict', 'packages', 'goBinaries', 'vulnerabilities'],
            properties: {
              kind: {
                const: 'image',
              },
              names: {
                $ref: '#/definitions/names',
              },
              verdict: {
                $ref: '#/definitions/verdict',
              },
              packages: {
                type: 'integer',
                minimum: 0,
              },
              goBinaries: {
                type: 'integer',
                minimum: 0,
              },
              vulnerabilities: {
                type: 'integer',
                minimum: 0,
              },
            },
          },
        ],
      },
    },
    processes: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['pid', 'name', 'status'],
        properties: {
          pid: {
            type: 'integer',
            minimum: 1,
          },
          name: {
            type: 'string',
          },
          exe: {
            type: 'string',
          },
          digest: {
            $ref: '#/definitions/digest',
          },
          status: {
            enum: ['verified', 'modified', 'unlisted', 'unverified', 'deleted', 'outside', 'unreadable'],
          },
        },
      },
    },
    images: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['digest', 'names', 'verdict'],
        properties: {
          digest: {
            $ref: '#/definitions/digest',
          },
          names: {
            $ref: '#/definitions/names',
          },
          verdict: {
            $ref: '#/definitions/verdict',
          },
        },
      },
    },
    containers: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'image', 'status'],
        properties: {
          id: {
            type: 'string',
          },
          image: {
            type: 'string',
          },
          imageDigest: {
            $ref: '#/definitions/digest',
          },
          pod: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'namespace'],
            properties: {
              name: {
                type: 'string',
              },
              namespace: {
                type: 'string',
              },
            },
          },
          status: {
            type: 'string',
          },
        },
      },
    },
    findings: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'firstSeen', 'lastSeen', 'finding'],
        properties: {
          key: {
            type: 'string',
            pattern: '^[0-9a-f]{64}$',
            description: 'sha256 of rule id, location and region file: stable across checks, restarts and nodes',
          },
          firstSeen: {
            type: 'string',
            format: 'date-time',
          },
          lastSeen: {
            type: 'string',
            format: 'date-time',
          },
          finding: {
            $ref: '#/definitions/finding',
          },
        },
      },
    },
    problems: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['where', 'message'],
        properties: {
          where: {
            type: 'string',
          },
          message: {
            type: 'string',
          },
        },
      },
    },
    summary: {
      type: 'object',
      additionalProperties: false,
      required: ['findings', 'bySeverity'],
      properties: {
        findings: {
          type: 'integer',
          minimum: 0,
        },
        bySeverity: {
          type: 'object',
          additionalProperties: false,
          required: ['critical', 'high', 'medium', 'low', 'unknown', 'info'],
          properties: {
            critical: {
              type: 'integer',
              minimum: 0,
            },
            high: {
              type: 'integer',
              minimum: 0,
            },
            medium: {
              type: 'integer',
              minimum: 0,
            },
            low: {
              type: 'integer',
              minimum: 0,
            },
            unknown: {
              type: 'integer',
              minimum: 0,
            },
            info: {
              type: 'integer',
              minimum: 0,
            },
          },
        },
      },
    },
  },
  definitions: {
    components: {
      type: 'object',
      additionalProperties: false,
      required: ['binaries'],
      description:
        'The Go binaries of the K3s binary and its bundle, with what a vulnerability matcher reads of them (src/model/report-components.ts); at most reportComponents modules in all (docs/limits.md)',
      properties: {
        binaries: {
          type: 'array',
          maxItems: LIMITS.reportComponents,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['path', 'go'],
            properties: {
              path: {
                type: 'string',
                description: "'' for the K3s binary itself, else the member's path in its bundle (bin/containerd)",
              },
              go: {
                type: 'string',
                minLength: 1,
                description: 'the Go runtime version as recorded (go1.23.4)',
              },
              goos: {
                type: 'string',
              },
              goarch: {
                type: 'string',
              },
              stripped: {
                const: true,
                description: 'the build info was removed: only the Go version is known',
              },
              k3s: {
                type: 'object',
                additionalProperties: false,
                required: ['module', 'version'],
                properties: {
                  module: {
                    type: 'string',
                  },
                  version: {
                    type: 'string',
                  },
                },
              },
              main: {
                $ref: '#/definitions/module',
              },
              modules: {
                type: 'array',
                maxItems: LIMITS.reportComponents,
                items: {
                  $ref: '#/definitions/module',
                },
              },
            },
          },
        },
        truncated: {
          const: true,
          description: 'more modules than reportComponents: the rest were left out',
        },
      },
    },
    module: {
      type: 'array',
      description: '[path, version] or, for a `=>` replacement, [path, version, replacementPath, replacementVersion]',
      items: {
        type: 'string',
      },
      oneOf: [
        { minItems: 2, maxItems: 2 },
        { minItems: 4, maxItems: 4 },
      ],
    },
    digest: {
      type: 'string',
      pattern: '^sha256:[0-9a-f]{64}$',
    },
    names: {
      type: 'array',
      items: {
        type: 'string',
      },
      uniqueItems: true,
    },
    verdict: {
      enum: ['trusted', 'untrusted', 'unknown'],
    },
    finding: {
      type: 'object',
      required: ['id', 'severity', 'title', 'message', 'location'],
      properties: {
        id: {
          type: 'string',
          description: 'a rule id of docs/rules.md, or an advisory id for a vulnerability',
        },
        severity: {
          enum: ['critical', 'high', 'medium', 'low', 'unknown', 'info'],
        },
        title: {
          type: 'string',
        },
        message: {
          type: 'string',
        },
        location: {
          type: 'array',
          items: {
            type: 'string',
          },
          minItems: 1,
        },
        component: {
          type: 'string',
        },
        vulnerability: {
          type: 'object',
        },
        region: {
          type: 'object',
          required: ['file', 'line', 'column'],
          properties: {
            file: {
              type: 'string',
            },
            line: {
              type: 'integer',
              minimum: 1,
            },
            column: {
              type: 'integer',
              minimum: 1,
            },
          },
        },
      },
    },
  },
} as const;
