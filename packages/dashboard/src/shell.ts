import { STYLESHEETS } from './assets.js';

/** Escapes text for an HTML text node or a double-quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The one HTML page. Every URL in it is relative, so the dashboard works under any mount
 * path without being told it; the browser app routes with the URL hash. It carries no job
 * data: everything is fetched as JSON and put into the page as text.
 */
export function shellHtml(title: string, version: string): string {
  const t = escapeHtml(title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${t}</title>
<link rel="icon" href="assets/favicon.svg" type="image/svg+xml">
${STYLESHEETS.map((name) => `<link rel="stylesheet" href="assets/${name}?v=${version}">\n`).join('')}<script src="assets/app.js?v=${version}" defer></script>
</head>
<body>
<div id="app" aria-live="polite"><p class="boot">Loading ${t}…</p></div>
<noscript><p class="boot">This dashboard needs JavaScript.</p></noscript>
</body>
</html>
`;
}
