/** One of the user's sessions, as the devices list shows it. */
export interface Device {
  keyDigest: string;
  createdAt: Date;
  expiresInSeconds: number;
  /** When a request last wrote or renewed it (undefined: not recorded). */
  lastSeenAt: Date | undefined;
  /** The browser's `User-Agent` and the address it came from, as its last write recorded them. */
  userAgent: string | undefined;
  clientAddress: string | undefined;
  /** The session of the browser looking at the page. */
  current: boolean;
}

/** What the demo's home page shows. */
export interface PageState {
  /** Messages of the last action (flash), shown once. */
  flash: string[];
  count: number;
  user: string | undefined;
  /** Seconds the session has left, or undefined when the visitor has no session yet. */
  expiresInSeconds: number | undefined;
  /** Where the sessions are kept, e.g. "PGlite in .data/pglite". */
  storage: string;
  /** Whether to offer "log out everywhere" (the storage keeps sessions by user). */
  canLogOutEverywhere: boolean;
  /** Whether to offer ending one of the other devices (the storage can end a session by its digest). */
  canEndDevices: boolean;
  /** The logged-in user's sessions, oldest first; undefined when not logged in or not kept by user. */
  devices: Device[] | undefined;
  /** The form token (signed, bound to the nonce cookie), carried by every form. */
  csrfToken: string;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const utc = (date: Date) => date.toISOString().replace('T', ' ').slice(0, 19);

function describeExpiry(seconds: number | undefined): string {
  if (seconds === undefined) return 'no session yet (nothing is stored until something is written)';
  return `in ${seconds} s (${utc(new Date(Date.now() + seconds * 1000))} UTC), renewed as you use it`;
}

/** The document's start, up to and including `<body>`. */
const head = (title: string) => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)}</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; }
    dt { font-weight: 600; } dd { margin: 0 0 .75rem; }
    form { display: inline-block; margin-right: .5rem; }
    code { background: #f3f3f3; padding: 0 .25rem; }
    td, th { padding: .25rem .75rem .25rem 0; text-align: left; vertical-align: top; }
    td.browser { max-width: 14rem; overflow-wrap: anywhere; font-size: .85em; }
    tr.current { background: #eef6ee; }
    .flash { background: #e8f0fe; border-left: 4px solid #1a73e8; padding: .5rem .75rem; }
    .error { color: #b00020; }
  </style>
</head>
<body>`;

/** What the step-up page shows: the form token, the age it needs, and whether a wrong password was just given. */
export interface StepUpState {
  csrfToken: string;
  stepUpSeconds: number;
  wrong: boolean;
}

/** The step-up prompt: "log out everywhere" on a login older than `stepUpSeconds` asks for the password once more. */
export function renderStepUp(state: StepUpState): string {
  const wrong = state.wrong ? '\n  <p class="error" id="step-up-error">That is not the password.</p>' : '';
  return `${head('Confirm it is you: sessionkit demo')}
  <h1>Confirm it is you</h1>
  <p>You logged in more than ${state.stepUpSeconds} s ago. Logging out everywhere ends every session of your account, so enter your password again.
  (The demo has no accounts: the password is <code>demo</code>.)</p>${wrong}
  ${form('/logout-everywhere', state.csrfToken, `
    <label>Password <input type="password" name="password" id="step-up-password" required autocomplete="current-password"></label>
    <button id="step-up-confirm">Confirm and log out everywhere</button>
  `)}
  <p><a href="/">Cancel</a></p>
</body>
</html>
`;
}

/** A POST form carrying the CSRF token; `inner` is trusted HTML. */
const form = (action: string, token: string, inner: string) =>
  `<form method="post" action="${action}"><input type="hidden" name="csrf" value="${escapeHtml(token)}">${inner}</form>`;

function renderDevices(state: PageState): string {
  if (state.devices === undefined) return '';
  const rows = state.devices.map((device) => {
    const id = escapeHtml(device.keyDigest);
    const action = device.current
      ? '<strong>this browser</strong>'
      : state.canEndDevices
        ? form('/sessions/end', state.csrfToken, `<input type="hidden" name="session" value="${id}"><button class="end-session">End</button>`)
        : '';
    const seen = device.lastSeenAt === undefined ? 'unknown' : `${utc(device.lastSeenAt)} UTC`;
    const browser = escapeHtml(device.userAgent ?? 'unknown');
    return `      <tr data-session="${id}"${device.current ? ' class="current"' : ''}><td class="browser">${browser}</td><td class="address">${escapeHtml(device.clientAddress ?? 'unknown')}</td><td class="last-seen">${seen}</td><td>${utc(device.createdAt)} UTC</td><td>in ${device.expiresInSeconds} s</td><td>${action}</td></tr>`;
  });
  return `
  <h2>Your sessions</h2>
  <table id="devices">
    <thead><tr><th>browser</th><th>address</th><th>last seen</th><th>started</th><th>expires</th><th></th></tr></thead>
    <tbody>
${rows.join('\n')}
    </tbody>
  </table>`;
}

/** The demo's home page: the counter, the user, the expiry and the user's devices, with a form per action. */
export function renderPage(state: PageState): string {
  const token = state.csrfToken;
  const flash = state.flash.map((message) => `<p class="flash" role="status">${escapeHtml(message)}</p>`).join('\n  ');
  const user = state.user === undefined ? '<em>not logged in</em>' : `<strong id="user">${escapeHtml(state.user)}</strong>`;
  const account =
    state.user === undefined
      ? form(
          '/login',
          token,
          `
      <label>User <input name="user" id="login-user" required maxlength="64" autocomplete="username"></label>
      <button id="login">Log in</button>
    `,
        )
      : `${form('/logout', token, '<button id="logout">Log out</button>')}${
          state.canLogOutEverywhere ? `\n    ${form('/logout-everywhere', token, '<button id="logout-everywhere">Log out everywhere</button>')}` : ''
        }`;
  return `${head('sessionkit demo')}
  <h1>sessionkit demo</h1>
  ${flash}
  <dl>
    <dt>Counter</dt><dd id="count">${state.count}</dd>
    <dt>User</dt><dd>${user}</dd>
    <dt>Session expires</dt><dd id="expiry">${escapeHtml(describeExpiry(state.expiresInSeconds))}</dd>
    <dt>Stored in</dt><dd>${escapeHtml(state.storage)}</dd>
  </dl>
  ${form('/counter', token, '<button id="increment">Count +1</button>')}
  ${account}${renderDevices(state)}
  <p>Scriptable routes: <code>GET /counter</code>, <code>POST /counter</code>, <code>GET /csrf-token</code>, <code>POST /login</code> (<code>user=…</code>),
  <code>GET /whoami</code>, <code>POST /logout</code>, <code>POST /logout-everywhere</code>, <code>POST /sessions/end</code>. Every POST needs the
  form token from <code>GET /csrf-token</code> (<code>csrf=…</code> or <code>X-CSRF-Token</code>), and cross-site POSTs are refused. The form token is
  signed and bound to its own small cookie, so reading pages stores no session; the first POST does. The session cookie is <code>HttpOnly</code> and
  <code>SameSite=Lax</code>; logging in gives it a new key.</p>
</body>
</html>
`;
}
