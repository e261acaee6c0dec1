// What k3sguard says on stderr besides progress: one line each, `k3sguard: ` first. The text
// names input files and quotes input (advisory ids, member names), so it is shown with its
// control characters quoted: nothing in an input can add a line or reach the terminal raw.
import { quoteControls } from '../model/quote.ts';

/** `k3sguard: TEXT`, for an error the run ends with. */
export function errorLine(text: string): void {
  process.stderr.write(`k3sguard: ${quoteControls(text)}\n`);
}

/** `k3sguard: warning: TEXT`, for something the user should know while the run goes on. */
export function warn(text: string): void {
  process.stderr.write(`k3sguard: warning: ${quoteControls(text)}\n`);
}
