// Whether output is coloured, decided once for every command. Colour only for a person at a
// terminal: never into an -o file, never when NO_COLOR is set (no-color.org, any non-empty
// value); FORCE_COLOR (any value but `0` or `false`) colours stdout even when it is a pipe,
// for CI logs that render ANSI. NO_COLOR wins over FORCE_COLOR: the user's refusal holds.

export function colorWanted(
  output: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  stdoutIsTTY: boolean = process.stdout.isTTY === true,
): boolean {
  if (output !== undefined && output !== '-') return false;
  if (env.NO_COLOR) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  return stdoutIsTTY;
}
