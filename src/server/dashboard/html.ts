// The dashboard's one way to write HTML: the `html` template tag. Every interpolated value is
// escaped unless it is itself the result of `html` (so fragments nest); arrays are rendered item
// by item; null, undefined and false render nothing. Node names, hostnames, advisory texts and
// paths come from agents and vulnerability records, so nothing reaches the page unescaped: a
// node named `<script>` is text. Attribute values are always written in double quotes. The
// escaping itself is the server's one helper (../html.ts), which the login page uses too.
import { escapeHtml } from '../html.ts';

/** HTML that was built by `html`: safe to insert as it is. */
export class Html {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

export type HtmlValue = Html | string | number | bigint | boolean | null | undefined | readonly HtmlValue[];

export { escapeHtml };

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.text;
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): Html {
  let out = strings[0] as string;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] as string);
  return new Html(out);
}
