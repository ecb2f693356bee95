// HTML pages. Element ids follow Keycloak's login theme (username, password, kc-login, input-error,
// kc-logout) so browser tests can run unchanged against the real Keycloak.

export function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

const STYLE = `
  body { font-family: system-ui, sans-serif; background: #f3f4f6; color: #111827; margin: 0; }
  main { max-width: 24rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: .5rem;
         box-shadow: 0 1px 3px rgba(0,0,0,.15); }
  h1 { font-size: 1.4rem; margin: 0 0 1rem; }
  .dev-note { background: #fef3c7; border: 1px solid #f59e0b; padding: .5rem .75rem; border-radius: .25rem;
              font-size: .9rem; }
  .error { background: #fee2e2; border: 1px solid #dc2626; color: #991b1b; padding: .5rem .75rem;
           border-radius: .25rem; }
  label { display: block; margin: 1rem 0 .25rem; font-weight: 600; }
  input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: .5rem;
         border: 1px solid #9ca3af; border-radius: .25rem; font-size: 1rem; }
  button { margin-top: 1.5rem; width: 100%; padding: .6rem; font-size: 1rem; border: 0; border-radius: .25rem;
           background: #1d4ed8; color: #fff; cursor: pointer; }
  pre { white-space: pre-wrap; word-break: break-word; }`;

function page(title, body, head = '') {
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)}</title>
  <style>${STYLE}</style>${head}
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

const DEV_NOTE = '<p class="dev-note" id="dev-idp-note">This is the Cogrion <strong>development</strong> identity provider, a local stand-in for Keycloak. Use it for local runs and tests only.</p>';

export function loginPage({ action, username = '', error = false }) {
  const errorHtml = error
    ? '<div class="error" id="input-error" role="alert" aria-live="polite">Invalid username or password.</div>'
    : '';
  const invalid = error ? ' aria-invalid="true" aria-describedby="input-error"' : '';
  return page('Sign in to Cogrion (dev)', `
  <h1 id="kc-page-title">Sign in to your account</h1>
  ${DEV_NOTE}
  ${errorHtml}
  <form id="kc-form-login" method="post" action="${escapeHtml(action)}" novalidate>
    <label for="username">Username or email</label>
    <input id="username" name="username" type="text" value="${escapeHtml(username)}" autocomplete="username"
           autocapitalize="none" spellcheck="false" autofocus${invalid}>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password"${invalid}>
    <button id="kc-login" name="login" type="submit">Sign In</button>
  </form>`);
}

// `form` is oidc-provider's hidden form (id "op.logoutForm", carrying the xsrf token).
export function logoutPage({ form, autoSubmit }) {
  if (autoSubmit) {
    return page('Signing out (dev)', `
  <h1>Signing out…</h1>
  ${form}
  <noscript><button id="kc-logout" type="submit" form="op.logoutForm">Continue</button></noscript>`,
    '\n  <script>document.addEventListener("DOMContentLoaded", function () { document.getElementById("op.logoutForm").submit(); });</script>');
  }
  return page('Logging out (dev)', `
  <h1 id="kc-page-title">Logging out</h1>
  ${DEV_NOTE}
  <p>Do you want to log out?</p>
  ${form}
  <button id="kc-logout" type="submit" form="op.logoutForm">Logout</button>`);
}

export function loggedOutPage() {
  return page('Signed out (dev)', `
  <h1 id="kc-page-title">You are logged out</h1>
  ${DEV_NOTE}`);
}

export function errorPage(details) {
  const rows = Object.entries(details)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `<pre><strong>${escapeHtml(k)}</strong>: ${escapeHtml(v)}</pre>`)
    .join('\n  ');
  return page('We are sorry… (dev)', `
  <h1 id="kc-page-title">We are sorry…</h1>
  ${DEV_NOTE}
  <div id="kc-error-message">
  ${rows}
  </div>`);
}
