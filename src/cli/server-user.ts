// `k3sguard server user create|password|token|list|delete`: the accounts people log in to the dashboard
// and the query API with (docs/server.md "Users and access"), on the server's `--db`. The first
// admin is made here; passwords come from `--password-file` or standard input (a terminal is
// asked without echo), never from the command line, where other users' `ps` would see them.
import { readOptionText } from '../io/option-file.ts';
import { InputError } from '../model/errors.ts';
import { quoteControls } from '../model/quote.ts';
import { MIN_PASSWORD_LENGTH } from '../server/auth/password.ts';
import {
  createUser,
  createUserToken,
  deleteUser,
  listUsers,
  ROLES,
  type Role,
  setPassword,
  USER_NAME,
  UserExistsError,
} from '../server/auth/users.ts';
import { EXIT_CLEAN } from './exit.ts';
import { openServerDatabase } from './server.ts';

export interface UserCliOptions {
  db?: string;
  name?: string;
  role?: string;
  passwordFile?: string;
  json?: boolean;
}

/** Longest password read: far beyond any passphrase, bounds what stdin may feed in. */
const MAX_PASSWORD_CHARS = 1024;

function userName(opts: UserCliOptions): string {
  const name = opts.name ?? '';
  if (!USER_NAME.test(name)) {
    throw new InputError('USAGE', undefined, '--name: a user name (letters, digits, ".", "_", "@", "-"; at most 64)');
  }
  return name;
}

/**
 * A terminal: one line per prompt, typed without echo. Raw mode for all of them at once, so
 * lines typed (or pasted) ahead of their prompt are kept for it, not lost between two reads.
 */
function readHiddenLines(prompts: readonly string[]): Promise<string[]> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    let line = '';
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    process.stderr.write(prompts[0] ?? '');
    const finish = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      if (err) reject(err);
      else resolve(lines);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\u0003') {
          process.stderr.write('\n');
          return finish(new InputError('USAGE', undefined, 'interrupted'));
        }
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          lines.push(line);
          line = '';
          process.stderr.write('\n');
          if (lines.length === prompts.length) return finish();
          process.stderr.write(prompts[lines.length] ?? '');
        } else if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
        else line += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

/** Standard input to its end, bounded; the one line it holds. */
async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_PASSWORD_CHARS * 4) {
      throw new InputError('USAGE', undefined, `the password on stdin is longer than ${MAX_PASSWORD_CHARS} characters`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function readPassword(opts: UserCliOptions): Promise<string> {
  let password: string;
  let source: string;
  if (opts.passwordFile !== undefined) {
    password = readOptionText(opts.passwordFile, 'secret', { label: '--password-file' }).replace(/\r?\n$/, '');
    source = '--password-file';
  } else if (process.stdin.isTTY) {
    const [first, again] = await readHiddenLines(['password: ', 'again: ']);
    password = first ?? '';
    source = 'the password';
    if (again !== password) throw new InputError('USAGE', undefined, 'the two passwords differ');
  } else {
    password = await readStdinLine();
    source = 'the password on stdin';
  }
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new InputError('USAGE', undefined, `${source}: at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if ([...password].length > MAX_PASSWORD_CHARS || /\p{Cc}/u.test(password)) {
    throw new InputError(
      'USAGE',
      undefined,
      `${source}: one line of at most ${MAX_PASSWORD_CHARS} characters without control characters`,
    );
  }
  return password;
}

export async function runUserCreate(opts: UserCliOptions): Promise<number> {
  const name = userName(opts);
  const role = opts.role ?? '';
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new InputError('USAGE', undefined, `--role: ${ROLES.join(' or ')}`);
  }
  const password = await readPassword(opts);
  const { db } = await openServerDatabase(opts.db);
  try {
    await createUser(db, name, role as Role, password);
  } catch (e) {
    if (e instanceof UserExistsError) {
      throw new InputError('USAGE', undefined, `user ${quoteControls(name)} exists (server user delete, then create)`);
    }
    throw e;
  } finally {
    await db.close();
  }
  process.stderr.write(`k3sguard server: user ${name} (${role}) created\n`);
  return EXIT_CLEAN;
}

export async function runUserPassword(opts: UserCliOptions): Promise<number> {
  const name = userName(opts);
  const password = await readPassword(opts);
  const { db } = await openServerDatabase(opts.db);
  try {
    if (!(await setPassword(db, name, password)))
      throw new InputError('NOT_FOUND', undefined, `no user ${quoteControls(name)}`);
  } finally {
    await db.close();
  }
  process.stderr.write(`k3sguard server: password of ${name} changed; its sessions ended\n`);
  return EXIT_CLEAN;
}

export async function runUserToken(opts: UserCliOptions): Promise<number> {
  const name = userName(opts);
  const { db } = await openServerDatabase(opts.db);
  try {
    const made = await createUserToken(db, name);
    if (!made) throw new InputError('NOT_FOUND', undefined, `no user ${quoteControls(name)}`);
    // The only time it is shown: the server keeps its hash.
    process.stdout.write(`${made.token}\n`);
  } finally {
    await db.close();
  }
  return EXIT_CLEAN;
}

export async function runUserList(opts: UserCliOptions): Promise<number> {
  const { db } = await openServerDatabase(opts.db);
  try {
    const users = await listUsers(db);
    if (opts.json) {
      process.stdout.write(
        `${JSON.stringify(
          users.map(({ id: _id, ...u }) => u),
          null,
          2,
        )}\n`,
      );
    } else {
      process.stdout.write('NAME\tROLE\tCREATED\tSESSIONS\tTOKENS\n');
      for (const u of users) {
        process.stdout.write(`${u.name}\t${u.role}\t${u.createdAt}\t${u.sessions}\t${u.tokens}\n`);
      }
    }
  } finally {
    await db.close();
  }
  return EXIT_CLEAN;
}

export async function runUserDelete(opts: UserCliOptions): Promise<number> {
  const name = userName(opts);
  const { db } = await openServerDatabase(opts.db);
  try {
    if (!(await deleteUser(db, name))) throw new InputError('NOT_FOUND', undefined, `no user ${quoteControls(name)}`);
  } finally {
    await db.close();
  }
  process.stderr.write(`k3sguard server: user ${name} deleted, with its sessions and tokens\n`);
  return EXIT_CLEAN;
}
