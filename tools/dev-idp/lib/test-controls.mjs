// TEST-ONLY controls of the dev IdP (enabled by DEV_IDP_TEST_CONTROLS=1, never otherwise).
// They let Portal.Tests prove that the Portal refuses what a compromised or confused realm could send:
//   POST /__test/misbehave  {"idToken": "<mode>"}   the NEXT token response's id_token is tampered with
//   POST /__test/sign       {<claims>} [?kid=&foreign=1]  a JWT signed with the realm's key (or a foreign one)
// Tampering happens after oidc-provider issued a correct token, by re-signing an edited payload
// with the realm's real key, so only the one property under test is wrong.
import { createSign, generateKeyPairSync, randomBytes } from 'node:crypto';

export const MODES = ['wrong-signature', 'wrong-audience', 'wrong-issuer', 'wrong-nonce', 'expired'];

const b64url = (buffer) => Buffer.from(buffer).toString('base64url');
const decode = (segment) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));

// A key the realm never published, for signatures that must not verify.
const { privateKey: foreignKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

export function signJwt(header, payload, privateKey) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = createSign('RSA-SHA256').update(input).sign(privateKey);
  return `${input}.${b64url(signature)}`;
}

export function createTestControls({ privateKey, kid, issuer }) {
  let armed; // the mode for the next token response, or undefined

  function tamper(idToken) {
    const [h, p] = idToken.split('.');
    const header = decode(h);
    const payload = decode(p);
    const now = Math.floor(Date.now() / 1000);
    let key = privateKey;
    switch (armed) {
      case 'wrong-signature': key = foreignKey; break; // same kid, another key: a forgery
      case 'wrong-audience': payload.aud = 'someone-else'; break;
      case 'wrong-issuer': payload.iss = `${issuer}-impostor`; break;
      case 'wrong-nonce': payload.nonce = randomBytes(16).toString('base64url'); break;
      case 'expired': payload.iat = now - 7200; payload.exp = now - 3600; break;
      default: return idToken;
    }
    return signJwt(header, payload, key);
  }

  return {
    // Koa middleware for oidc-provider: edits the token endpoint's JSON body on its way out.
    middleware: async (ctx, next) => {
      await next();
      if (armed && ctx.method === 'POST' && ctx.path.endsWith('/protocol/openid-connect/token') && ctx.status === 200 && ctx.body?.id_token) {
        console.log(`dev-idp test control: id_token tampered (${armed})`);
        ctx.body = { ...ctx.body, id_token: tamper(ctx.body.id_token) };
        armed = undefined;
      }
    },

    async handle(req, res, pathname, readJson) {
      const send = (status, body) => res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
      if (req.method !== 'POST') return send(405, { error: 'POST only' });
      const body = await readJson(req);
      if (pathname === '/__test/misbehave') {
        if (!MODES.includes(body.idToken)) return send(400, { error: `idToken must be one of ${MODES.join(', ')}` });
        armed = body.idToken;
        console.log(`dev-idp test control: next id_token will be ${armed}`);
        return send(200, { armed });
      }
      if (pathname === '/__test/sign') {
        const url = new URL(req.url, 'http://dev-idp.invalid');
        const header = { alg: 'RS256', kid: url.searchParams.get('kid') ?? kid, typ: url.searchParams.get('typ') ?? 'logout+jwt' };
        return send(200, { token: signJwt(header, body, url.searchParams.get('foreign') === '1' ? foreignKey : privateKey) });
      }
      return send(404, { error: 'no such test control' });
    },
  };
}
