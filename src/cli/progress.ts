// Progress on long work, on stderr and only for a person at a terminal: pipelines and CI logs
// get clean output. One line, rewritten in place; the text names input files, so it is shown
// quoted (a newline or ESC in a name would break the line).
import { quoteControls } from '../model/quote.ts';

export interface Progress {
  update(text: string): void;
  done(): void;
}

export function terminalProgress(enabled: boolean): Progress {
  const err = process.stderr;
  if (!enabled || !err.isTTY) return { update() {}, done() {} };
  let last = 0;
  let shown = false;
  return {
    update(text) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      shown = true;
      const width = (err.columns ?? 80) - 1;
      const line = quoteControls(text);
      err.write(`\r\x1b[2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
    },
    done() {
      if (shown) err.write('\r\x1b[2K');
      shown = false;
    },
  };
}
