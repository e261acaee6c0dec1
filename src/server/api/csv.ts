// CSV export (RFC 4180): a header line, then one line per row, CRLF line ends, fields quoted
// when they hold a comma, a quote or a line break. A field that a spreadsheet would run as a
// formula (starting with =, +, -, @, a tab or a carriage return) gets a leading apostrophe: an
// advisory summary or a node's hostname comes from outside and must not execute when opened.
export type CsvValue = string | number | boolean | null | readonly string[];

export interface CsvColumn<T> {
  readonly header: string;
  readonly value: (row: T) => CsvValue;
}

function field(value: CsvValue): string {
  let text = value === null ? '' : Array.isArray(value) ? value.join(' ') : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv<T>(columns: readonly CsvColumn<T>[], rows: readonly T[]): string {
  const lines = [columns.map((c) => field(c.header)).join(',')];
  for (const row of rows) lines.push(columns.map((c) => field(c.value(row))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** Columns named like the JSON fields, in order: each export's columns are its items' fields. */
export function columnsOf<T>(fields: readonly (keyof T & string)[]): CsvColumn<T>[] {
  return fields.map((f) => ({ header: f, value: (row: T) => row[f] as CsvValue }));
}
