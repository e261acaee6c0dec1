// Text from inputs placed in Markdown and HTML: in HTML every markup character is an entity (a
// file name in evidence is data, never markup); in a Markdown table cell the pipe would end the
// cell and a line break the row, and backticks would open code. Controls are quoted first.
import { quoteControls } from '../model/quote.ts';

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return quoteControls(text).replace(/[&<>"']/g, (c) => HTML[c] as string);
}

/** For a Markdown table cell or inline text: pipes, backticks, and HTML openers escaped. */
export function escapeMarkdown(text: string): string {
  return quoteControls(text).replace(/([\\`|*_[\]<>])/g, '\\$1');
}
