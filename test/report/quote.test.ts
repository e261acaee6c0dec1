// Text from inputs reaches the tables quoted: a Go module path, a file or member name, an
// advisory id or summary, a line of an audited file, each holding ESC sequences, a newline, a
// carriage return, C1 and a bidi override, must neither reach the terminal raw nor add a line.
// Each renderer is run twice, on the hostile text and on the same text with every control
// character replaced by a letter: the two renderings must have the same number of lines.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuditResult } from '../../src/audit/result.ts';
import { goComponents } from '../../src/inventory/gocomponents.ts';
import type { FileComponent, Finding, GoBuildInfo, Inventory } from '../../src/model/inventory.ts';
import { quoteControls } from '../../src/model/quote.ts';
import { auditTable } from '../../src/report/audit.ts';
import { renderScanTable } from '../../src/report/scan-table.ts';
import { renderInventoryTable } from '../../src/report/table.ts';
import { verifyTable } from '../../src/report/verify.ts';
import type { VerifyReport } from '../../src/verify/model.ts';

/** ESC sequences (colour, clear screen, window title), a forged line, CR, C1 CSI, DEL, RLO. */
const HOSTILE = 'evil\x1b[31m\x1b[2J\x1b]0;owned\x07\nFORGED LINE\rover\x9b1m\x7f\u202egnp.exe\u2066x\u2069';
const CONTROL = /[\p{Cc}\p{Bidi_Control}]/u;

function tame(text: string): string {
  return text.replace(/[\p{Cc}\p{Bidi_Control}]/gu, 'X');
}

/** No control character but the line breaks the renderer wrote, and no line more than the tame rendering. */
function assertQuoted(render: (text: string) => string): void {
  const hostile = render(HOSTILE);
  const plain = render(tame(HOSTILE));
  assert.doesNotMatch(hostile.replaceAll('\n', ''), CONTROL, hostile);
  assert.equal(hostile.split('\n').length, plain.split('\n').length, hostile);
  assert.ok(hostile.includes('evil\\x1b[31m'), 'the escape is shown, not dropped');
}

function goInventory(text: string): Inventory {
  const location = [`bin-${text}`];
  const info: GoBuildInfo = {
    encoding: 'inline',
    goVersion: `go1.23.8${text}`,
    path: `example.com/cmd/${text}`,
    main: { path: 'example.com/cmd', version: `v1.0.0${text}` },
    deps: [
      { path: `evil.example/${text}`, version: `v0.1.0-${text}` },
      {
        path: 'github.com/pkg/errors',
        version: 'v0.9.1',
        replace: { path: `evil.example/fork${text}`, version: `v9${text}` },
      },
    ],
    settings: [],
  };
  const ref = location.join('!');
  const file: FileComponent = {
    type: 'file',
    ref,
    name: `bin-${text}`,
    path: `bin-${text}`,
    location,
    size: 1234,
    sha256: 'a'.repeat(64),
    binary: { format: 'go', buildInfo: info, arch: { class: 64, endian: 'little', machine: 62, name: 'amd64' } },
    children: goComponents(ref, location, info, undefined),
  };
  const finding: Finding = {
    id: `K3SG-X${text}`,
    severity: 'high',
    title: `title ${text}`,
    message: `message ${text}`,
    location: [...location, `member ${text}`],
  };
  return {
    tool: { name: 'k3sguard', version: '0.0.0' },
    target: `dir/${text}`,
    targetKind: 'directory',
    root: {
      type: 'directory',
      ref: 'dir',
      name: 'dir',
      path: `dir${text}`,
      location: ['dir'],
      children: [
        file,
        { type: 'symlink', ref: 'l', name: 'l', path: `link${text}`, location: ['l'], target: `target${text}` },
      ],
    },
    findings: [finding],
    notes: [{ location: [`note ${text}`], message: `not inspected: ${text}` }],
  };
}

function vulnFindings(text: string): Finding[] {
  return [
    {
      id: `GO-2024-0001${text}`,
      severity: 'high',
      title: `summary from the OSV record ${text}`,
      message: text,
      location: ['dir', `bin-${text}`],
      vulnerability: {
        ids: [`GO-2024-0001${text}`, `CVE-${text}`],
        module: `evil.example/${text}`,
        version: `v0.1.0-${text}`,
        via: 'module',
        fixed: `v0.2.0${text}`,
        reachability: 'present',
        symbols: [`Func${text}`],
      },
    },
    {
      id: `GO-2024-0002${text}`,
      severity: 'low',
      title: 'suppressed',
      message: '',
      location: ['dir', `bin-${text}`],
      vulnerability: {
        ids: [`GO-2024-0002${text}`],
        module: 'm',
        version: 'v1',
        via: 'module',
        reachability: 'unknown',
        suppressed: { justification: `vulnerable_code_not_present${text}`, statement: text, document: 'vex.json' },
      },
    },
  ];
}

describe('human-readable output quotes control characters', () => {
  test('quoteControls: escapes, leaves other text alone, and is idempotent', () => {
    assert.equal(quoteControls('a\x1b[31mb\nc\td\re\x00f\x7fg\x9bh'), 'a\\x1b[31mb\\nc\\td\\re\\x00f\\x7fg\\x9bh');
    assert.equal(quoteControls('x\u202ey\u2066z\u200f\u061c'), 'x\\u202ey\\u2066z\\u200f\\u061c');
    const ordinary = 'C:\\path\\to · ünïcödé › 日本 \\n — ok';
    assert.equal(quoteControls(ordinary), ordinary);
    assert.equal(quoteControls(quoteControls(HOSTILE)), quoteControls(HOSTILE));
  });

  test('inspect table: Go module paths and versions, file names, links, findings, notes', () => {
    assertQuoted((t) => renderInventoryTable(goInventory(t), { modules: true, color: false }));
    // With colour, the only ESC bytes are the renderer's own SGR sequences.
    const coloured = renderInventoryTable(goInventory(HOSTILE), { modules: true, color: true });
    const sgr = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
    assert.doesNotMatch(coloured.replace(sgr, '').replaceAll('\n', ''), CONTROL);
    assert.ok(coloured.includes('\\x1b]0;owned\\x07'));
  });

  test('scan table: OSV ids, summaries, module paths, VEX statements', () => {
    assertQuoted((t) => renderScanTable(goInventory(t), vulnFindings(t), false));
  });

  test('verify table: the SUBJECT (a file name), details, expected, found, hint', () => {
    const report = (t: string): VerifyReport => ({
      checks: [
        { kind: 'checksum', subject: `k3s${t}`, status: 'mismatch', detail: t, expected: t, actual: t, hint: t },
        { kind: 'checksum', subject: t, status: 'ok', detail: 'matches' },
      ],
    });
    assertQuoted((t) => verifyTable(report(t), false));
  });

  test('audit table: messages and snippets of audited files, paths, waivers, problems', () => {
    const result = (t: string): AuditResult => ({
      area: 'iac',
      root: '/repo',
      findings: [
        {
          id: 'K3SG-IAC-X',
          severity: 'high',
          title: 'x',
          message: `curl ${t} | sh`,
          location: [`install${t}.sh`],
          region: { file: `install${t}.sh`, line: 3, column: 1, snippet: `curl -sfL ${t} | sh -` },
        },
      ],
      waived: [],
      filesAudited: [`install${t}.sh`],
      problems: [{ file: `bad${t}.sh`, kind: 'unreadable', message: t }],
    });
    assertQuoted((t) => auditTable(result(t)));
  });
});
