// Test OAuth 2.0 / OpenID Connect authorization server for the tacker-rs
// integration tests, built on the `oidc-provider` npm package.
//
//   node tests/idp/server.mjs <config.json>
//
// Prints exactly one JSON line on stdout once listening:
//   {"ready":true,"issuer":...,"token_endpoint":...,"introspection_endpoint":...,
//    "revocation_endpoint":...,"jwks_uri":...}
// Everything else (logs, warnings) goes to stderr. See README.md for the
// config format.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';

// oidc-provider prints NOTICEs with console.info (stdout). stdout carries the
// ready line only, so route every console method to stderr.
for (const m of ['log', 'info', 'debug']) {
  console[m] = (...args) => console.error(...args);
}
const readyOut = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

// oidc-provider warns that Node 22+ is preferred; keep that on stderr (default)
// but do not let it crash anything.

const { default: Provider, errors } = await import('oidc-provider');
const jose = await import('jose');

function die(msg, err) {
  console.error(`test-idp: ${msg}`, err ?? '');
  process.exit(2);
}

// ---------------------------------------------------------------------------
// Config
// ---------------------------------------------------------------------------

const configPath = process.argv[2];
if (!configPath) die('usage: node server.mjs <config.json>');

let config;
try {
  config = JSON.parse(fs.readFileSync(configPath, 'utf8'));
} catch (err) {
  die(`cannot read config ${configPath}`, err);
}

const tlsConf = config.https || null;
const users = config.users || {};
const lenientAssertionTimes = config.lenient_assertion_times === true;
const DEFAULT_TTL = 600;

const clients = (config.clients || []).map((c) => {
  const md = structuredClone(c);
  // Convenience defaults: these are machine clients that never use the
  // authorization endpoint.
  if (md.response_types === undefined) md.response_types = [];
  if (md.redirect_uris === undefined) md.redirect_uris = [];
  if (md.grant_types === undefined) md.grant_types = ['client_credentials'];
  return md;
});
// Without resource indicators oidc-provider silently drops requested scopes that
// are not in its static `scopes` list, so register the defaults, the config's
// "scopes" list and every scope named in a client's `scope` metadata.
const knownScopes = new Set([
  'openid', 'offline_access', 'profile', 'email', 'groups', 'tacker',
  ...(Array.isArray(config.scopes) ? config.scopes : []),
  ...clients.flatMap((c) => (typeof c.scope === 'string' ? c.scope.split(' ').filter(Boolean) : [])),
]);

const clientConfById = new Map(clients.map((c) => [c.client_id, c]));

function ttlFor(client) {
  const ttl = client?.metadata?.().x_ttl;
  return Number.isInteger(ttl) && ttl > 0 ? ttl : DEFAULT_TTL;
}

// ---------------------------------------------------------------------------
// Signing keys (generated per run; RS256 is what the id_tokens use)
// ---------------------------------------------------------------------------

async function genJwk(alg, kid, extra = {}) {
  const { privateKey } = await jose.generateKeyPair(alg, { extractable: true, ...extra });
  return { ...(await jose.exportJWK(privateKey)), kid, alg, use: 'sig' };
}

const providerJwks = {
  keys: [
    await genJwk('RS256', `rs256-${crypto.randomUUID().slice(0, 8)}`, { modulusLength: 2048 }),
    await genJwk('ES256', `es256-${crypto.randomUUID().slice(0, 8)}`),
  ],
};

// ---------------------------------------------------------------------------
// Optional leniency: keystonemiddleware sends client assertion iat/exp as JSON
// strings; oidc-provider rejects that ("invalid iat value"). With
// "lenient_assertion_times": true the server verifies such an assertion's
// signature itself, converts numeric-string iat/exp/nbf to numbers and
// re-signs it (same secret for client_secret_jwt; a server-held "compat" key
// that is added to the client's jwks for private_key_jwt) before
// oidc-provider sees it. All other checks stay with oidc-provider.
// ---------------------------------------------------------------------------

const compatKeys = new Map(); // kty/crv -> { privateKey, kid }

function compatKeyFor(alg) {
  if (/^(RS|PS)/.test(alg)) return compatKeys.get('RSA');
  if (alg === 'ES256') return compatKeys.get('P-256');
  if (alg === 'ES384') return compatKeys.get('P-384');
  if (alg === 'ES512') return compatKeys.get('P-521');
  if (alg === 'EdDSA' || alg === 'Ed25519') return compatKeys.get('Ed25519');
  return undefined;
}

if (lenientAssertionTimes) {
  const specs = [
    ['RSA', 'rsa', { modulusLength: 2048 }],
    ['P-256', 'ec', { namedCurve: 'P-256' }],
    ['P-384', 'ec', { namedCurve: 'P-384' }],
    ['P-521', 'ec', { namedCurve: 'P-521' }],
    ['Ed25519', 'ed25519', {}],
  ];
  const publics = [];
  for (const [name, type, opts] of specs) {
    const { privateKey, publicKey } = crypto.generateKeyPairSync(type, opts);
    const kid = `test-idp-compat-${name}`;
    compatKeys.set(name, { privateKey, kid });
    publics.push({ ...publicKey.export({ format: 'jwk' }), kid });
  }
  for (const c of clients) {
    if (c.token_endpoint_auth_method === 'private_key_jwt' && c.jwks?.keys) {
      c.jwks.keys.push(...structuredClone(publics));
    }
  }
}

async function normalizeAssertion(assertion) {
  let header;
  let payload;
  try {
    header = jose.decodeProtectedHeader(assertion);
    payload = jose.decodeJwt(assertion);
  } catch {
    return undefined;
  }
  const timeClaims = ['iat', 'exp', 'nbf'];
  if (!timeClaims.some((k) => typeof payload[k] === 'string')) return undefined;

  const conf = clientConfById.get(payload.sub ?? payload.iss);
  if (!conf || typeof header.alg !== 'string') return undefined;

  // Verify the original signature with the client's registered key material.
  let verified = false;
  if (header.alg.startsWith('HS')) {
    if (conf.client_secret) {
      try {
        await jose.compactVerify(assertion, new TextEncoder().encode(conf.client_secret));
        verified = true;
      } catch { /* fall through */ }
    }
  } else {
    for (const jwk of conf.jwks?.keys || []) {
      if (jwk.kid?.startsWith('test-idp-compat-')) continue;
      if (header.kid && jwk.kid && header.kid !== jwk.kid) continue;
      try {
        const key = await jose.importJWK(jwk, header.alg);
        await jose.compactVerify(assertion, key);
        verified = true;
        break;
      } catch { /* try next */ }
    }
  }
  if (!verified) return undefined;

  const fixed = { ...payload };
  for (const k of timeClaims) {
    if (typeof fixed[k] === 'string' && /^\d+(\.\d+)?$/.test(fixed[k].trim())) {
      fixed[k] = Math.trunc(Number(fixed[k]));
    }
  }
  const body = new TextEncoder().encode(JSON.stringify(fixed));
  if (header.alg.startsWith('HS')) {
    return new jose.CompactSign(body)
      .setProtectedHeader(header)
      .sign(new TextEncoder().encode(conf.client_secret));
  }
  const ck = compatKeyFor(header.alg);
  if (!ck) return undefined;
  return new jose.CompactSign(body)
    .setProtectedHeader({ ...header, kid: ck.kid })
    .sign(ck.privateKey);
}

const JWT_ENDPOINT = /\/token(\/introspection|\/revocation)?\/?$/;

async function lenientBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const raw = Buffer.concat(chunks).toString('utf8');
  const params = new URLSearchParams(raw);
  const assertion = params.get('client_assertion');
  if (assertion) {
    const fixed = await normalizeAssertion(assertion);
    if (fixed) {
      params.set('client_assertion', fixed);
      return params.toString();
    }
  }
  return raw;
}

// ---------------------------------------------------------------------------
// mTLS helpers
// ---------------------------------------------------------------------------

function peerCert(ctx) {
  const sock = ctx.req?.socket;
  if (!sock || typeof sock.getPeerCertificate !== 'function') return undefined;
  const cert = sock.getPeerCertificate(false);
  if (!cert || !cert.raw) return undefined;
  return cert;
}

function getCertificate(ctx) {
  const cert = peerCert(ctx);
  if (!cert) return undefined;
  return new crypto.X509Certificate(cert.raw).toString();
}

const DN_ALIASES = {
  E: 'EMAILADDRESS', EMAIL: 'EMAILADDRESS', S: 'ST', SN: 'SN', UID: 'UID',
};

function normType(t) {
  const u = t.trim().toUpperCase();
  return DN_ALIASES[u] ?? u;
}

// RFC 4514-ish: "CN=client,O=Example\, Inc,C=JP" -> ["CN=client", ...] (order-insensitive)
function parseDn(dn) {
  const out = [];
  let cur = '';
  for (let i = 0; i < dn.length; i += 1) {
    const ch = dn[i];
    if (ch === '\\' && i + 1 < dn.length) {
      cur += ch + dn[i + 1];
      i += 1;
    } else if (ch === ',' || ch === '+' || ch === ';') {
      out.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  out.push(cur);
  return out.filter((s) => s.trim()).map((rdn) => {
    const eq = rdn.indexOf('=');
    const type = normType(rdn.slice(0, eq));
    const value = rdn.slice(eq + 1).trim().replace(/\\(.)/g, '$1');
    return `${type}=${value}`;
  }).sort();
}

function certDn(subject) {
  const out = [];
  for (const [type, value] of Object.entries(subject || {})) {
    for (const v of Array.isArray(value) ? value : [value]) {
      out.push(`${normType(type)}=${v}`);
    }
  }
  return out.sort();
}

function certificateSubjectMatches(ctx, property, expected) {
  const cert = peerCert(ctx);
  if (!cert) return false;
  if (property === 'tls_client_auth_subject_dn') {
    return JSON.stringify(parseDn(expected)) === JSON.stringify(certDn(cert.subject));
  }
  const sans = (cert.subjectaltname || '').split(/,\s*/).map((s) => {
    const i = s.indexOf(':');
    return [s.slice(0, i), s.slice(i + 1)];
  });
  const want = {
    tls_client_auth_san_dns: 'DNS',
    tls_client_auth_san_ip: 'IP Address',
    tls_client_auth_san_email: 'email',
    tls_client_auth_san_uri: 'URI',
  }[property];
  return sans.some(([t, v]) => t === want && v === expected);
}

function certificateAuthorized(ctx) {
  return ctx.req?.socket?.authorized === true;
}

// ---------------------------------------------------------------------------
// Accounts (password grant / userinfo)
// ---------------------------------------------------------------------------

function userClaims(username) {
  const u = users[username];
  const claims = { ...(u?.claims || {}) };
  if (!claims.sub) claims.sub = username;
  return claims;
}

function findUserBySub(sub) {
  for (const name of Object.keys(users)) {
    if (userClaims(name).sub === sub) return name;
  }
  return undefined;
}

function constantEquals(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

// ---------------------------------------------------------------------------
// Server + provider
// ---------------------------------------------------------------------------

let handler = (req, res) => { res.statusCode = 503; res.end(); };

// Successful token requests by client and grant type, so that tests can count what a
// client asked for (renewals): GET /test/grants -> {"<client_id>": {"<grant_type>": n}}.
const grantCounts = {};

async function onRequest(req, res) {
  try {
    if (req.method === 'GET' && req.url === '/test/grants') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(grantCounts));
      return;
    }
    if (
      lenientAssertionTimes
      && req.method === 'POST'
      && JWT_ENDPOINT.test(new URL(req.url, 'http://x').pathname)
      && String(req.headers['content-type'] || '').startsWith('application/x-www-form-urlencoded')
    ) {
      // oidc-provider falls back to req.body when the stream was consumed.
      req.body = await lenientBody(req);
    }
    handler(req, res);
  } catch (err) {
    console.error('test-idp: request handling failed', err);
    res.statusCode = 500;
    res.end();
  }
}

let server;
if (tlsConf) {
  server = https.createServer({
    cert: fs.readFileSync(tlsConf.cert),
    key: fs.readFileSync(tlsConf.key),
    ca: tlsConf.clientCa ? fs.readFileSync(tlsConf.clientCa) : undefined,
    requestCert: true,
    rejectUnauthorized: false,
  }, onRequest);
} else {
  server = http.createServer(onRequest);
}

await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', resolve);
});
const { port } = server.address();
const issuer = `${tlsConf ? 'https' : 'http'}://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients,
  jwks: providerJwks,
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  scopes: [...knownScopes],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username', 'given_name', 'family_name'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  async findAccount(_ctx, sub) {
    const name = findUserBySub(sub);
    if (!name) return undefined;
    return { accountId: sub, claims: () => userClaims(name) };
  },
  clientAuthMethods: [
    'client_secret_basic',
    'client_secret_post',
    'client_secret_jwt',
    'private_key_jwt',
    ...(tlsConf ? ['tls_client_auth', 'self_signed_tls_client_auth'] : []),
    'none',
  ],
  enabledJWA: {
    clientAuthSigningAlgValues: [
      'HS256', 'HS384', 'HS512',
      'RS256', 'RS384', 'RS512',
      'PS256', 'PS384', 'PS512',
      'ES256', 'ES384', 'ES512',
      'EdDSA', 'Ed25519',
    ],
    idTokenSigningAlgValues: ['RS256', 'ES256'],
  },
  extraClientMetadata: {
    properties: ['x_claims', 'x_ttl'],
    validator(_ctx, key, value) {
      if (value === undefined || value === null) return;
      if (key === 'x_claims' && (typeof value !== 'object' || Array.isArray(value))) {
        throw new errors.InvalidClientMetadata('x_claims must be a JSON object');
      }
      if (key === 'x_ttl' && !(Number.isInteger(value) && value > 0)) {
        throw new errors.InvalidClientMetadata('x_ttl must be a positive integer');
      }
    },
  },
  async extraTokenClaims(ctx, token) {
    const client = ctx?.oidc?.client?.clientId === token.clientId
      ? ctx.oidc.client
      : await provider.Client.find(token.clientId);
    const extra = client?.metadata().x_claims;
    return extra ? structuredClone(extra) : undefined;
  },
  ttl: {
    ClientCredentials: (ctx, token, client) => ttlFor(client ?? ctx?.oidc?.client),
    AccessToken: (ctx, token, client) => ttlFor(client ?? ctx?.oidc?.client),
    IdToken: (ctx, token, client) => ttlFor(client ?? ctx?.oidc?.client),
    Grant: () => 24 * 60 * 60,
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: {
      enabled: true,
      allowedPolicy: async () => true,
    },
    revocation: {
      enabled: true,
      allowedPolicy: async () => true,
    },
    ...(tlsConf ? {
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        selfSignedTlsClientAuth: true,
        getCertificate,
        certificateAuthorized,
        certificateSubjectMatches,
      },
    } : {}),
  },
  renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
});

provider.on('server_error', (ctx, err) => console.error('test-idp: server_error', err));
provider.on('grant.success', (ctx) => {
  const client = ctx.oidc.client?.clientId ?? '';
  const grant = ctx.oidc.params?.grant_type ?? '';
  grantCounts[client] ??= {};
  grantCounts[client][grant] = (grantCounts[client][grant] ?? 0) + 1;
});
provider.on('grant.error', (ctx, err) => console.error(`test-idp: grant.error ${err.message} ${err.error_description ?? ''} ${err.error_detail ?? ''}`));
for (const ev of ['introspection.error', 'revocation.error']) {
  provider.on(ev, (ctx, err) => console.error(`test-idp: ${ev} ${err.message} ${err.error_description ?? ''} ${err.error_detail ?? ''}`));
}

// Resource Owner Password Credentials grant (for the Kubernetes OIDC flow).
provider.registerGrantType('password', async (ctx) => {
  const { params, client } = ctx.oidc;
  const username = params.username;
  const password = params.password;
  if (typeof username !== 'string' || typeof password !== 'string') {
    throw new errors.InvalidRequest('username and password are required');
  }
  const scopes = new Set(String(params.scope || '').split(' ').filter(Boolean));
  if (!scopes.has('openid')) {
    throw new errors.InvalidScope('scope must include openid', 'openid');
  }
  const user = users[username];
  if (!user || !constantEquals(user.password, password)) {
    throw new errors.InvalidGrant('invalid username or password');
  }
  const claims = userClaims(username);
  const scope = [...scopes].join(' ');

  const grant = new provider.Grant({ accountId: claims.sub, clientId: client.clientId });
  grant.addOIDCScope(scope);
  const grantId = await grant.save();

  const at = new provider.AccessToken({
    accountId: claims.sub,
    client,
    grantId,
    scope,
    gty: 'password',
  });
  const cert = tlsConf && client.tlsClientCertificateBoundAccessTokens ? getCertificate(ctx) : undefined;
  if (client.tlsClientCertificateBoundAccessTokens) {
    if (!cert) throw new errors.InvalidGrant('mutual TLS client certificate not provided');
    at.setThumbprint('x5t', cert);
  }
  const accessToken = await at.save();

  const idToken = new provider.IdToken({ sub: claims.sub }, { ctx, client });
  idToken.scope = 'openid';
  for (const [k, v] of Object.entries(claims)) {
    if (k !== 'sub') idToken.set(k, v);
  }
  idToken.set('at_hash', accessToken);

  ctx.body = {
    access_token: accessToken,
    id_token: await idToken.issue({ use: 'idtoken' }),
    token_type: 'Bearer',
    expires_in: at.expiration,
    scope,
  };
}, ['username', 'password', 'scope']);

handler = provider.callback();

// Endpoint URLs from the provider's own discovery document.
async function discovery() {
  const mod = tlsConf ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.get(`${issuer}/.well-known/openid-configuration`, { rejectUnauthorized: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('error', reject);
  });
}

let disco;
try {
  disco = await discovery();
} catch (err) {
  die('discovery self-check failed', err);
}

readyOut({
  ready: true,
  issuer: disco.issuer,
  token_endpoint: disco.token_endpoint,
  introspection_endpoint: disco.introspection_endpoint,
  revocation_endpoint: disco.revocation_endpoint,
  jwks_uri: disco.jwks_uri,
});

// ---------------------------------------------------------------------------
// Lifetime: exit on SIGTERM/SIGINT and when stdin (if it is a pipe/socket)
// reaches EOF, so a dying parent does not leave the server behind.
// ---------------------------------------------------------------------------

function shutdown(code = 0) {
  server.closeAllConnections?.();
  server.close();
  process.exit(code);
}
process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));

let stdinStat;
try {
  stdinStat = fs.fstatSync(0);
} catch {
  stdinStat = undefined;
}
if (stdinStat && (stdinStat.isFIFO() || stdinStat.isSocket())) {
  process.stdin.on('data', () => {});
  process.stdin.on('end', () => shutdown(0));
  process.stdin.on('close', () => shutdown(0));
  process.stdin.on('error', () => shutdown(0));
  process.stdin.resume();
}
