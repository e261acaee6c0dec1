// The one way renderers colour text. Whether to colour is the CLI's decision (a terminal,
// no -o, NO_COLOR; src/cli/terminal.ts); a renderer only receives it as `color`.
import type { Severity } from '../model/inventory.ts';

/** ANSI SGR styles the renderers use. */
export type Style = 'bold' | 'cyan' | 'green' | 'red' | 'bold-red' | 'yellow' | 'magenta' | 'dim';

const SGR: Record<Style, string> = {
  bold: '1',
  cyan: '36',
  green: '32',
  red: '31',
  'bold-red': '1;31',
  yellow: '33',
  magenta: '35',
  dim: '2',
};

export type Paint = (style: Style, text: string) => string;

/** A painter that styles text when `color`, and returns it unchanged otherwise. */
export function painter(color: boolean): Paint {
  return color ? (style, text) => `\x1b[${SGR[style]}m${text}\x1b[0m` : (_style, text) => text;
}

/** How each severity is shown. */
export const SEVERITY_STYLE: Record<Severity, Style> = {
  critical: 'bold-red',
  high: 'red',
  medium: 'yellow',
  low: 'cyan',
  unknown: 'magenta',
  info: 'dim',
};
