// Text into HTML: the one escape every part of report.html uses (report-html.ts, report-usage.ts). Whatever a
// session wrote (file names it handed back, tool names, model names) reaches the page only through it.
export const esc = (s: unknown): string =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
