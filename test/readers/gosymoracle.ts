// The test oracle for the function table reader: Go's own debug/gosym, in a tiny program
// built with Debian's Go (cached), printing the name of every function of Table.Funcs.
//
// Where the table is: the `.gopclntab` section; in a position-independent executable, which
// has none, found in `.data.rel.ro` by its header, as govulncheck finds it. Debian's Go is 1.19,
// whose debug/gosym predates the Go 1.20 magic: the program gives such a table the 1.18 magic
// first. That is what Go 1.20's debug/gosym does itself (it reads ver120 exactly as ver118:
// the new magic marks a funcdata change, not a change of the function list or the names).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CACHE_DIR } from '../fixtures/realbins.ts';
import { goEnv, goUnavailable } from './goversionm.ts';

const PROGRAM = `package main

import (
	"bufio"
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"fmt"
	"os"
)

func main() {
	f, err := elf.Open(os.Args[1])
	check(err)
	var data []byte
	if s := f.Section(".gopclntab"); s != nil {
		data, err = s.Data()
		check(err)
	} else if s := f.Section(".data.rel.ro"); s != nil {
		d, err := s.Data()
		check(err)
		data = findTable(d, f.ByteOrder)
	}
	if data == nil {
		fmt.Fprintln(os.Stderr, "no pclntab")
		os.Exit(3)
	}
	if f.ByteOrder.Uint32(data) == 0xfffffff1 {
		data = append([]byte(nil), data...)
		f.ByteOrder.PutUint32(data, 0xfffffff0)
	}
	var text uint64
	if s := f.Section(".text"); s != nil {
		text = s.Addr
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, text))
	check(err)
	w := bufio.NewWriter(os.Stdout)
	for _, fn := range tab.Funcs {
		fmt.Fprintln(w, fn.Name)
	}
	check(w.Flush())
}

func findTable(d []byte, order binary.ByteOrder) []byte {
	for i := 0; i+16 <= len(d); i += 4 {
		switch order.Uint32(d[i:]) {
		case 0xfffffffb, 0xfffffffa, 0xfffffff0, 0xfffffff1:
			if d[i+4] == 0 && d[i+5] == 0 && (d[i+6] == 1 || d[i+6] == 2 || d[i+6] == 4) && (d[i+7] == 4 || d[i+7] == 8) {
				return d[i:]
			}
		}
	}
	return nil
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
`;

/** The oracle executable, built once; or why it cannot be. */
function oracleProgram(): { path: string } | { skip: string } {
  const missing = goUnavailable();
  if (missing) return { skip: missing };
  const goVersion = execFileSync('go', ['version'], { encoding: 'utf8', env: goEnv() }).trim();
  const key = createHash('sha256').update(goVersion).update(PROGRAM).digest('hex').slice(0, 16);
  const out = join(CACHE_DIR, 'gosym-oracle', key, 'gosym-funcs');
  if (existsSync(out)) return { path: out };
  const work = mkdtempSync(join(tmpdir(), 'k3sguard-gosym-'));
  try {
    writeFileSync(join(work, 'go.mod'), 'module gosymfuncs\n\ngo 1.19\n');
    writeFileSync(join(work, 'main.go'), PROGRAM);
    const env = goEnv({ GOPROXY: 'off', GOPATH: join(work, 'gopath'), GOCACHE: join(CACHE_DIR, 'gocache') });
    execFileSync('go', ['build', '-o', join(work, 'gosym-funcs'), '.'], { cwd: work, env, stdio: 'pipe' });
    mkdirSync(dirname(out), { recursive: true });
    renameSync(join(work, 'gosym-funcs'), out);
    return { path: out };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Every function name debug/gosym lists for the ELF at `file` (with repeats removed). */
export function gosymFunctions(file: string): Set<string> | { skip: string } {
  const oracle = oracleProgram();
  if ('skip' in oracle) return oracle;
  const text = execFileSync(oracle.path, [file], { encoding: 'utf8', maxBuffer: 1 << 30 });
  return new Set(text.split('\n').filter((l) => l !== ''));
}
