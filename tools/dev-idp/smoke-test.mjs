#!/usr/bin/env node
// End-to-end check of the dev IdP, the way the Portal uses it: starts server.mjs on a free
// 127.0.0.1 port, runs the code flow (PKCE S256, client_secret_post), checks the id_token,
// userinfo, refresh, a wrong password, SSO, logout with id_token_hint, and that logout really ends
// the session. Run: npm run smoke   (exit code 0 = all good)
import { spawn } from 'node:child_process';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const SECRET = randomBytes(16).toString('hex');
const CLIENT_ID = 'cogrion-portal';
const REDIRECT_URI = 'http://127.0.0.1:5080/signin-oidc';
const POST_LOGOUT_URI = 'http://127.0.0.1:5080/signed-out';

const port = await new Promise((resolve) => {
  const probe = net.createServer().listen(0, '127.0.0.1', () => {
    const { port: p } = probe.address();
    probe.close(() => resolve(p));
  });
});
const base = `http://127.0.0.1:${port}`;

// ---- a stand-in for the Portal's back-channel logout endpoint: keeps every logout token posted to it
const logoutTokens = [];
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    logoutTokens.push(new URLSearchParams(body).get('logout_token'));
    res.writeHead(200).end();
  });
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const BACKCHANNEL_URI = `http://127.0.0.1:${receiver.address().port}/account/backchannel-logout`;
const issuer = `${base}/realms/cogrion`;

// ---- start the server and wait for its ready line
const child = spawn(process.execPath, [path.join(here, 'server.mjs')], {
  env: { ...process.env, DEV_IDP_PORT: String(port), DEV_IDP_CLIENT_SECRET: SECRET, DEV_IDP_BACKCHANNEL_LOGOUT_URI: BACKCHANNEL_URI },
  stdio: ['ignore', 'pipe', 'pipe'],
});
// However this script ends (a failed start below throws before the checks' finally), the server ends with it: a child
// process outlives its parent, and an orphaned server would keep its port and run on after the test run.
process.on('exit', () => child.kill('SIGKILL'));
let serverLog = '';
child.stdout.on('data', (d) => { serverLog += d; });
child.stderr.on('data', (d) => { serverLog += d; });
await new Promise((resolve, reject) => {
  // As generous as the test infrastructure's wait for the same line: a loaded machine starts node slowly.
  const timer = setTimeout(() => reject(new Error(`server not ready:\n${serverLog}`)), 30_000);
  child.stdout.on('data', () => {
    if (serverLog.includes(`dev-idp ready: ${issuer}`)) { clearTimeout(timer); resolve(); }
  });
  child.on('exit', (code) => reject(new Error(`server exited (${code}):\n${serverLog}`)));
});

// ---- a tiny browser: one cookie jar, manual redirects
function newBrowser() {
  const jar = new Map();
  async function request(url, init = {}) {
    const headers = { ...(init.headers ?? {}) };
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /expires=Thu, 01 Jan 1970/i.test(a)) || value === '';
      if (expired) jar.delete(name); else jar.set(name, value);
    }
    return res;
  }
  // Follows redirects that stay on the IdP; stops at the first one that leaves it (the Portal).
  async function follow(url, init) {
    let res = await request(url, init);
    let current = url;
    while ([302, 303].includes(res.status)) {
      const next = new URL(res.headers.get('location'), current).href;
      if (!next.startsWith(base)) return { res, location: next };
      current = next;
      res = await request(next);
    }
    return { res, url: current, body: await res.text() };
  }
  return { request, follow, jar };
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');
function pkce() {
  const verifier = b64url(randomBytes(32));
  return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) };
}
function authUrl({ challenge, state = b64url(randomBytes(8)), scope = 'openid profile email' }) {
  const u = new URL(`${issuer}/protocol/openid-connect/auth`);
  u.search = new URLSearchParams({
    client_id: CLIENT_ID, response_type: 'code', scope, redirect_uri: REDIRECT_URI, state,
    code_challenge: challenge, code_challenge_method: 'S256',
  });
  return u.href;
}
function formAction(html) {
  return html.match(/<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/)[1].replace(/&amp;/g, '&');
}
async function postForm(browser, url, fields, headers = {}) {
  return browser.follow(new URL(url, base).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}
async function tokenRequest(fields, { basic = false } = {}) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  const body = new URLSearchParams(fields);
  if (basic) headers.authorization = `Basic ${Buffer.from(`${CLIENT_ID}:${SECRET}`).toString('base64')}`;
  else { body.set('client_id', CLIENT_ID); body.set('client_secret', SECRET); }
  const res = await fetch(discovery.token_endpoint, { method: 'POST', headers, body });
  return { status: res.status, json: await res.json() };
}
async function verifyJwt(jwt) {
  const [h, p, s] = jwt.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  assert.equal(header.alg, 'RS256');
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, 'signing key is published at certs');
  const ok = verify('sha256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url'));
  assert.ok(ok, 'id_token signature verifies against the JWKS');
  return JSON.parse(Buffer.from(p, 'base64url'));
}

async function codeFlowLogin(browser, username, password, { wrongPasswordFirst = false, nonce } = {}) {
  const { verifier, challenge } = pkce();
  const state = b64url(randomBytes(8));
  const url = new URL(authUrl({ challenge, state }));
  if (nonce) url.searchParams.set('nonce', nonce);
  let page = await browser.follow(url.href);
  assert.equal(page.res.status, 200, 'login page shown');
  if (wrongPasswordFirst) {
    page = await postForm(browser, formAction(page.body), { username, password: 'wrong' });
    assert.match(page.body, /id="input-error"/);
  }
  const done = await postForm(browser, formAction(page.body), { username, password });
  assert.ok(done.location?.startsWith(`${REDIRECT_URI}?`), `redirected back to the Portal, got ${done.location ?? done.res.status}`);
  const cb = new URL(done.location).searchParams;
  assert.equal(cb.get('state'), state);
  assert.equal(cb.get('iss'), issuer);
  const token = await tokenRequest({
    grant_type: 'authorization_code', code: cb.get('code'), redirect_uri: REDIRECT_URI, code_verifier: verifier,
  });
  assert.equal(token.status, 200, JSON.stringify(token.json));
  return token.json;
}

const checks = [];
async function check(name, fn) {
  try { await fn(); checks.push(`ok   ${name}`); } catch (err) { checks.push(`FAIL ${name}: ${err.message}`); process.exitCode = 1; }
}

let discovery;
let jwks;
try {
  await check('health and discovery', async () => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
    assert.equal(discovery.issuer, issuer);
    const oidc = `${issuer}/protocol/openid-connect`;
    assert.equal(discovery.authorization_endpoint, `${oidc}/auth`);
    assert.equal(discovery.token_endpoint, `${oidc}/token`);
    assert.equal(discovery.userinfo_endpoint, `${oidc}/userinfo`);
    assert.equal(discovery.jwks_uri, `${oidc}/certs`);
    assert.equal(discovery.end_session_endpoint, `${oidc}/logout`);
    assert.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
    jwks = await (await fetch(discovery.jwks_uri)).json();
    assert.equal(jwks.keys[0].kty, 'RSA');
    assert.equal(jwks.keys[0].d, undefined, 'no private parts in certs');
  });

  await check('auth request without PKCE is refused', async () => {
    const u = new URL(authUrl({ challenge: 'x' }));
    u.searchParams.delete('code_challenge');
    u.searchParams.delete('code_challenge_method');
    const { location } = await newBrowser().follow(u.href);
    assert.equal(new URL(location).searchParams.get('error'), 'invalid_request');
  });

  const browser = newBrowser();
  let tokens;
  await check('login page and wrong password', async () => {
    const page = await browser.follow(authUrl(pkce()));
    assert.equal(page.res.status, 200);
    assert.match(page.body, /<title>Sign in to Cogrion \(dev\)<\/title>/);
    for (const id of ['username', 'password', 'kc-login']) assert.match(page.body, new RegExp(`id="${id}"`));
    assert.match(page.body, /<label for="username">/);
    assert.match(page.body, /<label for="password">/);
    assert.match(page.body, /development/);
    const bad = await postForm(browser, formAction(page.body), { username: 'alice', password: 'nope' });
    assert.equal(bad.res.status, 200);
    assert.match(bad.body, /id="input-error" role="alert"[^>]*>Invalid username or password\.</);
    assert.match(bad.body, /id="username" name="username" type="text" value="alice"/);
  });

  await check('code flow (alice): id_token claims', async () => {
    // A wrong password first, then the right one on the same login attempt; plus a nonce.
    tokens = await codeFlowLogin(browser, 'alice', 'alice-pass', { wrongPasswordFirst: true, nonce: 'n-0S6_WzA2Mj' });
    assert.ok(tokens.access_token && tokens.refresh_token && tokens.id_token);
    assert.equal(tokens.token_type, 'Bearer');
    assert.equal(tokens.expires_in, 300);
    const c = await verifyJwt(tokens.id_token);
    assert.equal(c.iss, issuer);
    assert.equal(c.aud, CLIENT_ID);
    assert.equal(c.azp, CLIENT_ID);
    assert.ok(c.exp > Date.now() / 1000 && c.iat <= Date.now() / 1000 + 1);
    assert.equal(c.sub, '1c7a5d0f-4b2e-4a8f-8d3b-6e9f2a1b8c02');
    assert.equal(c.preferred_username, 'alice');
    assert.equal(c.email, 'alice@example.com');
    assert.equal(c.email_verified, true);
    assert.equal(c.name, 'Alice Anderson');
    assert.equal(c.given_name, 'Alice');
    assert.equal(c.family_name, 'Anderson');
    assert.deepEqual(c.realm_access.roles, ['default-roles-cogrion', 'offline_access', 'uma_authorization']);
    assert.ok(typeof c.sid === 'string' && c.sid.length > 0, 'sid');
    assert.ok(c.auth_time, 'auth_time');
    assert.equal(c.acr, '1');
    assert.equal(c.nonce, 'n-0S6_WzA2Mj');
  });

  await check('userinfo returns the same user claims', async () => {
    const res = await fetch(discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    const u = await res.json();
    assert.equal(res.status, 200, JSON.stringify(u));
    assert.equal(u.sub, '1c7a5d0f-4b2e-4a8f-8d3b-6e9f2a1b8c02');
    assert.equal(u.preferred_username, 'alice');
    assert.equal(u.email_verified, true);
    assert.equal(u.name, 'Alice Anderson');
    assert.deepEqual(u.realm_access.roles, ['default-roles-cogrion', 'offline_access', 'uma_authorization']);
  });

  await check('refresh (client_secret_post and client_secret_basic) returns a new id_token', async () => {
    const first = await verifyJwt(tokens.id_token);
    for (const basic of [false, true]) {
      const r = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, { basic });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.ok(r.json.access_token && r.json.access_token !== tokens.access_token);
      assert.ok(r.json.refresh_token);
      const c = await verifyJwt(r.json.id_token);
      assert.equal(c.sub, first.sub);
      assert.equal(c.email, 'alice@example.com');
      assert.equal(c.sid, first.sid);
      assert.deepEqual(c.realm_access, first.realm_access);
    }
  });

  await check('wrong client secret is refused', async () => {
    const res = await fetch(discovery.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: CLIENT_ID, client_secret: 'wrong' }),
    });
    assert.equal(res.status, 401);
  });

  await check('SSO: a second auth request skips the login page', async () => {
    const { location } = await browser.follow(authUrl(pkce()));
    assert.ok(location?.startsWith(`${REDIRECT_URI}?code=`), `got ${location}`);
  });

  await check('logout with id_token_hint: no confirmation, redirect, session ended', async () => {
    const u = new URL(discovery.end_session_endpoint);
    u.search = new URLSearchParams({ id_token_hint: tokens.id_token, post_logout_redirect_uri: POST_LOGOUT_URI, state: 'bye' });
    const page = await browser.follow(u.href);
    assert.equal(page.res.status, 200);
    assert.doesNotMatch(page.body, /Do you want/);
    assert.match(page.body, /document\.getElementById\("op\.logoutForm"\)\.submit\(\)/);
    const action = page.body.match(/<form id="op\.logoutForm" method="post" action="([^"]+)"/)[1];
    const fields = Object.fromEntries([...page.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)].map((m) => [m[1], m[2]]));
    assert.ok(fields.xsrf, 'xsrf kept');
    assert.equal(fields.logout, 'yes');
    const done = await postForm(browser, action, fields);
    assert.equal(done.location, `${POST_LOGOUT_URI}?state=bye`);
    // Back-channel logout: before redirecting, the realm posted a signed logout token naming the session.
    assert.equal(logoutTokens.length, 1, 'one logout token posted');
    const idClaims = await verifyJwt(tokens.id_token);
    const logout = await verifyJwt(logoutTokens[0]);
    assert.equal(logout.iss, issuer);
    assert.equal(logout.aud, CLIENT_ID);
    assert.equal(logout.sub, idClaims.sub);
    assert.equal(logout.sid, idClaims.sid, 'the logout names the id_token\'s sid');
    assert.deepEqual(logout.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
    assert.ok(logout.jti && logout.iat);
    assert.equal(logout.nonce, undefined);
    const again = await browser.follow(authUrl(pkce()));
    assert.equal(again.res.status, 200);
    assert.match(again.body, /id="kc-login"/, 'login page shown again');
    const r = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    assert.equal(r.json.error, 'invalid_grant', 'refresh token dies with the session');
    // Signing out again (session already gone) still lands on the post-logout URI.
    const twice = await browser.follow(u.href);
    const action2 = twice.body.match(/<form method="post" action="([^"]+)"/)[1];
    const fields2 = Object.fromEntries([...twice.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)].map((m) => [m[1], m[2]]));
    assert.equal((await postForm(browser, action2, fields2)).location, `${POST_LOGOUT_URI}?state=bye`);
  });

  await check('login page without its cookie gives a readable error', async () => {
    const page = await newBrowser().follow(`${issuer}/login-actions/made-up`);
    assert.equal(page.res.status, 400);
    assert.match(page.body, /timed out/);
  });

  await check('logout without id_token_hint asks for confirmation (as Keycloak does)', async () => {
    const b2 = newBrowser();
    await codeFlowLogin(b2, 'dave', 'dave-pass');
    const page = await b2.follow(`${discovery.end_session_endpoint}?client_id=${CLIENT_ID}`);
    assert.equal(page.res.status, 200);
    assert.match(page.body, /Do you want to log out\?/);
    assert.match(page.body, /id="kc-logout"/);
  });

  await check('admin has platform-admin; erin is unverified; login by e-mail works', async () => {
    const admin = await verifyJwt((await codeFlowLogin(newBrowser(), 'admin', 'admin-pass')).id_token);
    assert.deepEqual(admin.realm_access.roles, ['default-roles-cogrion', 'offline_access', 'uma_authorization', 'platform-admin']);
    assert.equal(admin.email, 'admin@cogrion.local');
    const erin = await verifyJwt((await codeFlowLogin(newBrowser(), 'erin@example.com', 'erin-pass')).id_token);
    assert.equal(erin.preferred_username, 'erin');
    assert.equal(erin.email_verified, false);
  });

  await check('client roles arrive as resource_access.<client>.roles', async () => {
    const frank = await verifyJwt((await codeFlowLogin(newBrowser(), 'frank', 'frank-pass')).id_token);
    assert.deepEqual(frank.resource_access, { [CLIENT_ID]: { roles: ['platform-admin'] } });
    assert.ok(!frank.realm_access.roles.includes('platform-admin'));
  });

  await check('realm_access is there even with scope=openid only', async () => {
    const { verifier, challenge } = pkce();
    const browser2 = newBrowser();
    const page = await browser2.follow(authUrl({ challenge, scope: 'openid' }));
    const done = await postForm(browser2, formAction(page.body), { username: 'bob', password: 'bob-pass' });
    const code = new URL(done.location).searchParams.get('code');
    const t = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier });
    const c = await verifyJwt(t.json.id_token);
    assert.ok(c.realm_access && c.sid && c.azp);
    assert.equal(c.email, undefined);
  });

  await check('keycloak/cogrion-realm.json has the same client and users as the dev IdP', async () => {
    const realm = JSON.parse(readFileSync(path.join(here, 'keycloak', 'cogrion-realm.json'), 'utf8'));
    const users = JSON.parse(readFileSync(path.join(here, 'users.json'), 'utf8'));
    assert.equal(realm.realm, 'cogrion');
    const client = realm.clients.find((c) => c.clientId === CLIENT_ID);
    assert.equal(client.attributes['pkce.code.challenge.method'], 'S256');
    assert.equal(client.standardFlowEnabled, true);
    assert.equal(client.directAccessGrantsEnabled, false);
    assert.equal(client.publicClient, false);
    assert.equal(realm.users.length, users.length);
    for (const u of users) {
      const k = realm.users.find((x) => x.username === u.username);
      assert.ok(k, u.username);
      assert.equal(k.id, u.id);
      assert.equal(k.email, u.email);
      assert.equal(k.emailVerified, u.emailVerified);
      assert.equal(k.firstName, u.firstName);
      assert.equal(k.lastName, u.lastName);
      assert.equal(k.credentials[0].value, u.password);
      assert.deepEqual(k.realmRoles, ['default-roles-cogrion', ...u.realmRoles]);
      assert.deepEqual(k.clientRoles ?? {}, u.clientRoles ?? {});
    }
    assert.equal(client.attributes['backchannel.logout.session.required'], 'true');
    assert.match(client.attributes['backchannel.logout.url'], /\/account\/backchannel-logout$/);
  });

  await check('logs hold no secrets', async () => {
    assert.ok(!serverLog.includes(SECRET), 'client secret');
    assert.ok(!serverLog.includes('alice-pass'), 'password');
    assert.ok(!serverLog.includes(tokens.refresh_token) && !serverLog.includes(tokens.id_token), 'tokens');
  });
} finally {
  child.kill('SIGTERM');
  receiver.close();
}

console.log(checks.join('\n'));
if (process.exitCode) console.log(`\n--- server log ---\n${serverLog}`);
