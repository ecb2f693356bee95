// Reads the DEV_IDP_* environment variables. Everything has a default except the client secret.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function fail(message) {
  console.error(`dev-idp: ${message}`);
  process.exit(2);
}

function list(value, fallback) {
  const items = (value ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    try {
      new URL(item);
    } catch {
      fail(`not an absolute URL in a URI list: ${item}`);
    }
  }
  return items;
}

function positiveInt(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) fail(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

export function loadConfig(env = process.env) {
  const host = env.DEV_IDP_HOST || '127.0.0.1';
  const port = positiveInt(env, 'DEV_IDP_PORT', 8081);

  // A wildcard bind address is not something a browser can visit, so the default public URL uses loopback.
  const publicHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const hostInUrl = publicHost.includes(':') ? `[${publicHost}]` : publicHost;
  const publicUrlRaw = (env.DEV_IDP_PUBLIC_URL || `http://${hostInUrl}:${port}`).replace(/\/+$/, '');
  let publicUrl;
  try {
    publicUrl = new URL(publicUrlRaw);
  } catch {
    fail(`DEV_IDP_PUBLIC_URL is not a URL: ${publicUrlRaw}`);
  }
  if (!/^https?:$/.test(publicUrl.protocol) || publicUrl.pathname !== '/' || publicUrl.search || publicUrl.hash) {
    fail('DEV_IDP_PUBLIC_URL must be an http(s) origin without a path, e.g. http://127.0.0.1:8081');
  }

  const realm = env.DEV_IDP_REALM || 'cogrion';
  if (!/^[A-Za-z0-9._-]+$/.test(realm)) fail(`DEV_IDP_REALM has characters that do not belong in a URL path: ${realm}`);

  const clientSecret = env.DEV_IDP_CLIENT_SECRET;
  if (!clientSecret) {
    fail('DEV_IDP_CLIENT_SECRET is required (the secret of the confidential client, the same value the Portal is configured with).');
  }

  const realmPath = `/realms/${realm}`;
  const redirectUris = list(env.DEV_IDP_REDIRECT_URIS,
    'http://127.0.0.1:5080/signin-oidc,http://localhost:5080/signin-oidc');
  // Where the realm posts logout tokens (OpenID Connect Back-Channel Logout): the Portal's endpoint on
  // the origin of the first redirect URI unless set; "none" turns back-channel logout off.
  const backchannelRaw = env.DEV_IDP_BACKCHANNEL_LOGOUT_URI
    ?? `${new URL(redirectUris[0]).origin}/account/backchannel-logout`;
  const backchannelLogoutUri = backchannelRaw === 'none' ? undefined : list(backchannelRaw, '')[0];
  return {
    host,
    port,
    realm,
    realmPath,
    issuer: `${publicUrl.origin}${realmPath}`,
    clientId: env.DEV_IDP_CLIENT_ID || 'cogrion-portal',
    clientSecret,
    redirectUris,
    backchannelLogoutUri,
    postLogoutRedirectUris: list(env.DEV_IDP_POST_LOGOUT_REDIRECT_URIS,
      'http://127.0.0.1:5080/signed-out,http://localhost:5080/signed-out'),
    accessTokenTtl: positiveInt(env, 'DEV_IDP_ACCESS_TOKEN_TTL', 300),
    usersFile: path.resolve(env.DEV_IDP_USERS_FILE || path.join(here, '..', 'users.json')),
    // Test-only: POST /__test/... endpoints that make the next token response misbehave or sign a
    // token on demand (Portal.Tests prove the Portal refuses what it must). Never set outside tests.
    testControls: env.DEV_IDP_TEST_CONTROLS === '1',
    // The provider ends when its standard input closes: a test process holds the other end, so however that process ends
    // (killed, crashed), the kernel closes it and no provider outlives the run.
    exitWithStdin: env.DEV_IDP_EXIT_WITH_STDIN === '1',
  };
}
