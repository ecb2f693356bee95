#!/usr/bin/env node
// Cogrion dev IdP: a local OpenID Connect provider shaped like a Keycloak realm, built on oidc-provider.
// DEVELOPMENT AND TESTS ONLY: plain http, in-memory state, demo passwords in a JSON file.
import http from 'node:http';
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';

import { loadConfig } from './lib/config.mjs';
import { loadUsers, claimsOf } from './lib/users.mjs';
import { MemoryAdapter } from './lib/memory-adapter.mjs';
import { createTestControls } from './lib/test-controls.mjs';
import {
  loginPage, logoutPage, loggedOutPage, errorPage,
} from './lib/views.mjs';

const config = loadConfig();
let users;
try {
  users = loadUsers(config.usersFile, config.realm);
} catch (err) {
  console.error(`dev-idp: ${err.message}`);
  process.exit(2);
}

// Imported only after the configuration checked out, so a config error is the only thing printed.
// (On Node 20 oidc-provider prints "Unsupported runtime" once: it targets Node 22+, yet works on 20.)
const { default: Provider } = await import('oidc-provider');

const { realmPath } = config;
const OIDC = '/protocol/openid-connect'; // Keycloak's endpoint prefix inside a realm
const LOGIN_ACTIONS = `${realmPath}/login-actions/`; // our login page lives here, as Keycloak's does

// A fresh RS256 signing key on every start. Tokens issued before a restart no longer verify,
// which is fine for a dev IdP whose sessions are in memory anyway.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = privateKey.export({ format: 'jwk' });
signingKey.kid = randomBytes(8).toString('hex');
signingKey.alg = 'RS256';
signingKey.use = 'sig';
const realmPublicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
const testControls = config.testControls ? createTestControls({ privateKey, kid: signingKey.kid, issuer: config.issuer }) : undefined;

const provider = new Provider(config.issuer, {
  adapter: MemoryAdapter,
  jwks: { keys: [signingKey] },

  clients: [{
    client_id: config.clientId,
    client_secret: config.clientSecret,
    client_name: 'Cogrion Portal',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: config.redirectUris,
    post_logout_redirect_uris: config.postLogoutRedirectUris,
    // Back-channel logout, as Keycloak's "Backchannel logout URL" + "session required": when a realm
    // session ends, the realm posts a logout token naming sub and sid to the Portal.
    ...(config.backchannelLogoutUri
      ? { backchannel_logout_uri: config.backchannelLogoutUri, backchannel_logout_session_required: true }
      : {}),
    // client_secret_basic is accepted as well: oidc-provider treats the two secret methods as one.
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'RS256',
  }],
  clientAuthMethods: ['client_secret_post', 'client_secret_basic'],
  responseTypes: ['code'],
  pkce: { required: () => true }, // and oidc-provider only implements S256

  // Keycloak's default client scopes; the ones without claims are accepted and simply granted.
  scopes: ['openid', 'offline_access', 'profile', 'email', 'roles', 'web-origins', 'basic'],
  claims: {
    // realm_access, resource_access, azp, sid, acr and auth_time ride on `openid`, so they are there whatever else is
    // requested (Keycloak's realm-role mapper and its basic/acr scopes behave the same way).
    openid: ['sub', 'realm_access', 'resource_access', 'azp', 'sid', 'acr', 'auth_time'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  acrValues: ['0', '1'],
  // By default oidc-provider keeps scope claims out of an id_token issued next to an access token
  // (they are meant to be fetched from userinfo). Keycloak puts them in; so do we.
  conformIdTokenClaims: false,

  async findAccount(ctx, sub, token) {
    const user = users.findById(sub);
    if (!user) return undefined;
    return {
      accountId: user.id,
      async claims(use) {
        const claims = claimsOf(user);
        if (use === 'id_token') {
          claims.azp = ctx.oidc.client?.clientId;
          // Keycloak's sid names the SSO session; oidc-provider's session uid is the same idea.
          claims.sid = token?.sessionUid;
        }
        return claims;
      },
    };
  },

  // Keycloak issues a refresh token to every standard-flow client, not only for offline_access,
  // and (with its defaults) lets the same refresh token be used again, so no rotation here.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: false,

  ttl: {
    AccessToken: config.accessTokenTtl,
    IdToken: config.accessTokenTtl, // Keycloak gives id tokens the access token lifespan
    AuthorizationCode: 60,
    RefreshToken: 10 * 60 * 60, // Keycloak's SSO session max (10 h); dies earlier with the session
    Interaction: 30 * 60,
    Session: 10 * 60 * 60,
    Grant: 10 * 60 * 60,
  },

  routes: {
    authorization: `${OIDC}/auth`,
    token: `${OIDC}/token`,
    userinfo: `${OIDC}/userinfo`,
    jwks: `${OIDC}/certs`,
    end_session: `${OIDC}/logout`,
    revocation: `${OIDC}/revoke`,
    introspection: `${OIDC}/token/introspect`,
    pushed_authorization_request: `${OIDC}/ext/par/request`,
  },

  cookies: {
    // Distinct names: cookies are not separated by port, so the Portal on 127.0.0.1:5080 sees them too.
    names: {
      session: 'DEV_IDP_SESSION',
      interaction: 'DEV_IDP_INTERACTION',
      resume: 'DEV_IDP_RESUME',
    },
    // No `secure` flag is set here: oidc-provider only marks cookies secure when the request is https,
    // so they work over plain http on 127.0.0.1. SameSite=Lax is enough for top-level redirects.
    long: { httpOnly: true, sameSite: 'lax', path: realmPath },
    short: { httpOnly: true, sameSite: 'lax' },
    keys: [randomBytes(32).toString('base64url')],
  },

  interactions: {
    url: (ctx, interaction) => `${LOGIN_ACTIONS}${interaction.uid}`,
  },

  features: {
    devInteractions: { enabled: false }, // we render our own login page below
    resourceIndicators: { enabled: false }, // plain opaque access tokens, usable at userinfo
    revocation: { enabled: true },
    introspection: { enabled: true },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // oidc-provider asks the user to confirm every logout. Keycloak does not when the client sends
      // id_token_hint, so in that case the confirmation form is submitted automatically. The form
      // already carries the xsrf token; logout=yes ends the whole session, not just this client's part.
      async logoutSource(ctx, form) {
        ctx.type = 'html';
        ctx.body = logoutPage({
          form: form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>'),
          autoSubmit: Boolean(ctx.oidc.params.id_token_hint),
        });
      },
      async postLogoutSuccessSource(ctx) {
        ctx.type = 'html';
        ctx.body = loggedOutPage();
      },
    },
  },

  // oidc-provider refuses outgoing requests to loopback and private addresses (SSRF protection) and
  // gives up after 2.5 s. The dev IdP's one outgoing call is the back-channel logout to a Portal on
  // this machine, possibly busy under a test run, so both are relaxed here, for this dev IdP only.
  fetch: (url, options) => {
    delete options.dispatcher;
    return globalThis.fetch(url, { ...options, signal: AbortSignal.timeout(15_000) });
  },

  clientBasedCORS: () => false, // the Portal talks to the token endpoint from its server, never a browser
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = errorPage(out);
  },
});

// Honour X-Forwarded-Proto/Host when a reverse proxy sits in front (koa's `proxy` switch).
provider.proxy = true;

// Log why a request failed, without its parameters (they may hold codes or tokens).
for (const event of ['authorization.error', 'grant.error', 'userinfo.error', 'end_session.error',
  'end_session_confirm.error', 'revocation.error', 'introspection.error', 'jwks.error', 'discovery.error']) {
  provider.on(event, (ctx, err) => {
    const detail = err.error_detail ? ` (${err.error_detail})` : '';
    console.warn(`dev-idp ${event}: ${err.error ?? err.name}: ${err.error_description ?? err.message}${detail}`);
  });
}
provider.on('server_error', (ctx, err) => console.error('dev-idp server_error:', err));
// One line per back-channel logout (tests wait for it); the token itself is never logged.
provider.on('backchannel.success', (ctx, client, accountId) => console.log(`dev-idp backchannel.success: ${client.clientId} ${accountId}`));
provider.on('backchannel.error', (ctx, err, client, accountId) => console.warn(`dev-idp backchannel.error: ${client.clientId} ${accountId}: ${err.message}`));
if (testControls) provider.use(testControls.middleware);

// ---------------------------------------------------------------------------------------------
// Login page (our own interaction handling): GET shows the form, POST checks the password.
// Consent is never asked: the only client is first-party, so whatever it requests is granted.

async function readBody(req, limit = 16 * 1024) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > limit) throw Object.assign(new Error('request body too large'), { status: 413 });
  }
  return body;
}

async function readForm(req) {
  return new URLSearchParams(await readBody(req));
}

function sendHtml(res, status, html, extraHeaders = {}) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
    ...extraHeaders,
  });
  res.end(html);
}

async function grantEverythingRequested(details) {
  const { prompt: { details: missing }, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}

async function handleLoginAction(req, res, uid) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch {
    // No (or an expired) interaction cookie: the login took too long or cookies are blocked.
    sendHtml(res, 400, errorPage({
      error: 'login_timeout',
      error_description: 'Your login attempt timed out or its cookie is missing. Go back to the application and sign in again.',
    }));
    return;
  }
  if (details.uid !== uid) {
    sendHtml(res, 400, errorPage({ error: 'invalid_request', error_description: 'This login page does not belong to the current login attempt.' }));
    return;
  }

  if (details.prompt.name === 'consent') {
    const grantId = await grantEverythingRequested(details);
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  if (details.prompt.name !== 'login') {
    sendHtml(res, 400, errorPage({ error: 'invalid_request', error_description: `Unsupported prompt ${details.prompt.name}.` }));
    return;
  }

  const action = `${LOGIN_ACTIONS}${uid}`;
  const csp = { 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'" };
  if (req.method === 'GET') {
    sendHtml(res, 200, loginPage({ action, username: details.params.login_hint ?? '' }), csp);
    return;
  }
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'GET, POST' }).end();
    return;
  }

  const form = await readForm(req);
  const username = form.get('username') ?? '';
  const user = users.authenticate(username, form.get('password'));
  if (!user) {
    sendHtml(res, 200, loginPage({ action, username, error: true }), csp);
    return;
  }
  console.log(`dev-idp login: ${user.username}`);
  await provider.interactionFinished(req, res, {
    login: { accountId: user.id, acr: '1', amr: ['pwd'] },
  }, { mergeWithLastSubmission: false });
}

// ---------------------------------------------------------------------------------------------
// HTTP server: /healthz, a Keycloak-like realm info document, the login pages, and oidc-provider
// mounted under /realms/<realm>. Mounting by hand works like express's app.use(prefix, ...):
// strip the prefix from req.url and keep the full path in req.originalUrl, from which
// oidc-provider works out its mount path when it builds URLs.

const oidcCallback = provider.callback();

const server = http.createServer(async (req, res) => {
  const started = Date.now();
  const { pathname } = new URL(req.url, 'http://dev-idp.invalid');
  // Path only: query strings can carry codes, id_token_hint and other things that must stay out of logs.
  res.on('finish', () => console.log(`${req.method} ${pathname} ${res.statusCode} ${Date.now() - started}ms`));

  try {
    if (pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end('ok');
    } else if (testControls && pathname.startsWith('/__test/')) {
      await testControls.handle(req, res, pathname, async (r) => JSON.parse((await readBody(r)) || '{}'));
    } else if (pathname === realmPath && req.method === 'GET') {
      realmInfo(res);
    } else if (pathname.startsWith(LOGIN_ACTIONS) && !pathname.slice(LOGIN_ACTIONS.length).includes('/')) {
      await handleLoginAction(req, res, pathname.slice(LOGIN_ACTIONS.length));
    } else if (pathname.startsWith(`${realmPath}/`)) {
      req.originalUrl = req.url;
      req.url = req.url.slice(realmPath.length);
      oidcCallback(req, res);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
    }
  } catch (err) {
    console.error('dev-idp error:', err);
    if (!res.headersSent) sendHtml(res, err.status ?? 500, errorPage({ error: 'server_error', error_description: err.message }));
    else res.end();
  }
});

// GET /realms/<realm>: Keycloak answers with public realm information; some tools probe it.
function realmInfo(res) {
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify({
    realm: config.realm,
    public_key: realmPublicKey,
    'token-service': `${config.issuer}${OIDC}`,
    'account-service': `${config.issuer}/account`,
    'tokens-not-before': 0,
  }));
}

server.on('error', (err) => {
  console.error(`dev-idp: cannot listen on ${config.host}:${config.port}: ${err.message}`);
  process.exit(1);
});
server.listen(config.port, config.host, () => {
  console.log(`dev-idp users: ${users.all.map((u) => u.username).join(', ')}`);
  if (config.backchannelLogoutUri) console.log(`dev-idp back-channel logout to: ${config.backchannelLogoutUri}`);
  if (testControls) console.log('dev-idp TEST CONTROLS ENABLED (/__test/...): for automated tests only');
  console.log(`dev-idp ready: ${config.issuer}`);
});

if (config.exitWithStdin) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)).closeAllConnections());
}
