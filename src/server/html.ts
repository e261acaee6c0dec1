// Text put into HTML the server renders (the login page, and the dashboard's pages): escaped,
// so a node name or an advisory summary can never become markup or script.
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}
