/** What the demo's home page shows. */
export interface PageState {
  count: number;
  user: string | undefined;
  /** Seconds the session has left, or undefined when the visitor has no session yet. */
  expiresInSeconds: number | undefined;
  /** Where the sessions are kept, e.g. "PGlite in .data/pglite". */
  storage: string;
  /** Whether to offer "log out everywhere" (the storage keeps sessions by user). */
  canLogOutEverywhere: boolean;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function describeExpiry(seconds: number | undefined): string {
  if (seconds === undefined) return 'no session yet (nothing is stored until something is written)';
  const at = new Date(Date.now() + seconds * 1000).toISOString().replace('T', ' ').slice(0, 19);
  return `in ${seconds} s (${at} UTC), renewed as you use it`;
}

/** The demo's home page: the counter, the user and the expiry, with a form per action. */
export function renderPage(state: PageState): string {
  const user = state.user === undefined ? '<em>not logged in</em>' : `<strong id="user">${escapeHtml(state.user)}</strong>`;
  const account =
    state.user === undefined
      ? `<form method="post" action="/login">
      <label>User <input name="user" id="login-user" required maxlength="64" autocomplete="username"></label>
      <button id="login">Log in</button>
    </form>`
      : `<form method="post" action="/logout"><button id="logout">Log out</button></form>${
          state.canLogOutEverywhere
            ? `\n    <form method="post" action="/logout-everywhere"><button id="logout-everywhere">Log out everywhere</button></form>`
            : ''
        }`;
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>sessionkit demo</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem; }
    dt { font-weight: 600; } dd { margin: 0 0 .75rem; }
    form { display: inline-block; margin-right: .5rem; }
    code { background: #f3f3f3; padding: 0 .25rem; }
  </style>
</head>
<body>
  <h1>sessionkit demo</h1>
  <dl>
    <dt>Counter</dt><dd id="count">${state.count}</dd>
    <dt>User</dt><dd>${user}</dd>
    <dt>Session expires</dt><dd id="expiry">${escapeHtml(describeExpiry(state.expiresInSeconds))}</dd>
    <dt>Stored in</dt><dd>${escapeHtml(state.storage)}</dd>
  </dl>
  <form method="post" action="/counter"><button id="increment">Count +1</button></form>
  ${account}
  <p>Scriptable routes: <code>GET /counter</code>, <code>POST /login</code> (<code>user=…</code>),
  <code>GET /whoami</code>, <code>POST /logout</code>, <code>POST /logout-everywhere</code>. The session cookie is <code>HttpOnly</code> and
  <code>SameSite=Lax</code>; logging in gives it a new key.</p>
</body>
</html>
`;
}
