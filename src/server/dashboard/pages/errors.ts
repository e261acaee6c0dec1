// A page for what is not there (an unknown node or advisory) or could not be read.
import { type Html, html } from '../html.ts';

export function errorPage(title: string, message: string): Html {
  return html`<div class="error-page"><h1>${title}</h1><p>${message}</p><p><a href="/">Back to the overview</a></p></div>`;
}
