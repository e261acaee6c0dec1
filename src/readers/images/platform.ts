// `--platform os/arch[/variant]`, apart from the image readers so the CLI can check the option
// without loading them.
import { InputError } from '../../model/errors.ts';
import type { Platform } from './types.ts';

export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) {
    throw new InputError('USAGE', '', `--platform ${JSON.stringify(text)}: expected os/arch or os/arch/variant`);
  }
  const [os, architecture, variant] = parts as [string, string, string?];
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}
