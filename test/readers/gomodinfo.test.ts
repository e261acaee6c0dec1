// The module list text and Go's quoting. Unquoting is checked against Go itself: a Go
// program prints strings quoted by strconv.Quote, strconv.QuoteToASCII and as raw strings, and
// goUnquote must give back exactly the original bytes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../src/model/errors.ts';
import { goUnquote, parseModInfo, quotedPrefixLength } from '../../src/readers/go/modinfo.ts';
import { CACHE_DIR } from '../fixtures/realbins.ts';
import { goEnv, goUnavailable } from './goversionm.ts';

const QUOTER = `package main

import (
	"encoding/hex"
	"fmt"
	"strconv"
)

func main() {
	for _, s := range []string{
		"plain", "a b", "tab\\there", "nl\\nx", "quote\\"x", "back\\\\slash", "bell\\a\\b\\f\\v\\r",
		"\\x00\\x01\\x7f", "ü", "日本語", "😀", "\\u2028", "-ldflags=-s -w -X 'a.B=c d'",
	} {
		for _, q := range []string{strconv.Quote(s), strconv.QuoteToASCII(s), "\`" + s + "\`"} {
			fmt.Printf("%s\\t%s\\n", hex.EncodeToString([]byte(s)), hex.EncodeToString([]byte(q)))
		}
	}
}
`;

test('goUnquote inverts Go strconv quoting', (t) => {
  const noGo = goUnavailable();
  if (noGo) return t.skip(noGo);
  const dir = mkdtempSync(join(tmpdir(), 'k3sguard-quote-'));
  try {
    writeFileSync(join(dir, 'main.go'), QUOTER);
    writeFileSync(join(dir, 'go.mod'), 'module example.com/quoter\n\ngo 1.19\n');
    const out = execFileSync('go', ['run', '.'], {
      cwd: dir,
      encoding: 'utf8',
      env: goEnv({ GOPROXY: 'off', GOCACHE: join(CACHE_DIR, 'gocache'), GOPATH: join(dir, 'gopath') }),
    });
    const rows = out.trim().split('\n');
    assert.equal(rows.length, 13 * 3);
    for (const row of rows) {
      const [origHex = '', quotedHex = ''] = row.split('\t');
      const quoted = Buffer.from(quotedHex, 'hex').toString('utf8');
      const original = Buffer.from(origHex, 'hex');
      if (quoted.startsWith('`') && (original.includes(0x60) || original.includes(0x0d))) continue; // not raw-quotable
      const back = goUnquote(quoted);
      assert.ok(back !== undefined, `unquotes ${quoted}`);
      assert.deepEqual(Buffer.from(back, 'utf8'), original, quoted);
      assert.equal(quotedPrefixLength(`${quoted}=rest`), quoted.length, `prefix of ${quoted}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('goUnquote rejects what strconv.Unquote rejects', () => {
  for (const bad of ['"unterminated', '"a"b"', '"\\q"', '"\\x4"', '"\\400"', '"\\ud800"', "'x'", '"a\nb"', '`a`b`']) {
    assert.equal(goUnquote(bad), undefined, bad);
  }
});

test('module lines, replacements and quoted build settings', () => {
  const text = [
    'path\tgithub.com/k3s-io/k3s/cmd/server',
    'mod\tgithub.com/k3s-io/k3s\t(devel)\t',
    'dep\tk8s.io/kubernetes\tv1.31.4\t',
    '=>\tgithub.com/k3s-io/kubernetes\tv1.31.4-k3s1\th1:abc=',
    'dep\texample.com/local\tv0.0.0\t',
    '=>\t../local\t\t',
    'dep\tgolang.org/x/sys\tv0.1.0\th1:def=',
    'build\t"key with space"=`raw value`',
    'build\t-gcflags="all=-N -l"',
    'build\tempty=',
    'something-new\tignored as Go ignores it',
    'build\tlast=not newline-terminated: dropped, as Go drops it',
  ].join('\n');
  const info = parseModInfo(text, 'bin');
  assert.equal(info.path, 'github.com/k3s-io/k3s/cmd/server');
  assert.deepEqual(info.main, { path: 'github.com/k3s-io/k3s', version: '(devel)' });
  assert.deepEqual(info.deps, [
    {
      path: 'k8s.io/kubernetes',
      version: 'v1.31.4',
      replace: { path: 'github.com/k3s-io/kubernetes', version: 'v1.31.4-k3s1', sum: 'h1:abc=' },
    },
    { path: 'example.com/local', version: 'v0.0.0', replace: { path: '../local', version: '' } },
    { path: 'golang.org/x/sys', version: 'v0.1.0', sum: 'h1:def=' },
  ]);
  assert.deepEqual(info.settings, [
    { key: 'key with space', value: 'raw value' },
    { key: '-gcflags', value: 'all=-N -l' },
    { key: 'empty', value: '' },
  ]);
});

test('malformed module lists are BUILDINFO_CORRUPT naming the file', () => {
  for (const [text, why] of [
    ['=>\tx\tv1\t\n', /replacement with no module/],
    ['dep\tx\n', /1 columns/],
    ['dep\tx\tv1\n=>\ty\tv2\n', /not 3/],
    ['build\tnoequals\n', /without "="/],
    ['build\t=v\n', /without a key/],
    ['build\tk="unterminated\n', /invalid Go-quoted/],
  ] as const) {
    assert.throws(
      () => parseModInfo(text, 'k3s'),
      (e: unknown) =>
        e instanceof InputError && e.code === 'BUILDINFO_CORRUPT' && e.file === 'k3s' && why.test(e.message),
      text,
    );
  }
});
