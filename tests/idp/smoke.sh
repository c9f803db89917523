#!/usr/bin/env bash
# Smoke test for the test authorization server (tests/idp/server.mjs).
#
#   bash tests/idp/smoke.sh
#
# Installs the pinned npm packages if needed (npm ci), makes throwaway
# certificates with the openssl CLI (TLS/mTLS steps are skipped without it or
# with SMOKE_NO_TLS=1),
# starts the server and exercises every feature the Rust tests rely on with
# curl. Prints PASS/FAIL per step and exits non-zero if any step failed.

set -u -o pipefail

IDP_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/test-idp-smoke.XXXXXX")"
PASS=0
FAIL=0
PIDS=()

cleanup() {
  exec 3>&- 4>&- 2>/dev/null || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

pass() { echo "PASS: $1"; PASS=$((PASS + 1)); }
fail() { echo "FAIL: $1${2:+ -- $2}"; FAIL=$((FAIL + 1)); }
check() { # check "name" cmd...   (cmd's exit status decides)
  local name="$1"; shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}

# jget PATH  -- read JSON on stdin, print the JS expression o<PATH>
jget() {
  node -e '
    const o = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const v = eval("o" + process.argv[1]);
    process.stdout.write(v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v));
  ' "$1"
}

# jtest EXPR  -- read JSON on stdin as `o`, exit 0 iff EXPR is truthy
jtest() {
  node -e '
    const o = JSON.parse(require("fs").readFileSync(0, "utf8"));
    process.exit(eval(process.argv[1]) ? 0 : 1);
  ' "$1"
}

# ---------------------------------------------------------------------------
# npm packages
# ---------------------------------------------------------------------------
if [ ! -d "$IDP_DIR/node_modules/oidc-provider" ]; then
  echo "running npm ci in $IDP_DIR" >&2
  (cd "$IDP_DIR" && npm ci --no-audit --no-fund >&2) || { echo "FAIL: npm ci"; exit 1; }
fi

# mkjwt ALG KEY CLIENT_ID AUD [string]
#   KEY is a secret for HS*, or a PEM private key file for others.
#   With "string" as 5th arg, iat/exp are JSON strings (keystonemiddleware style).
mkjwt() {
  (cd "$IDP_DIR" && ALG="$1" KEY="$2" CID="$3" AUD="$4" STR="${5:-}" node --input-type=module -e '
    import * as jose from "jose";
    import { readFileSync } from "node:fs";
    import { randomUUID, createPrivateKey } from "node:crypto";
    const { ALG, KEY, CID, AUD, STR } = process.env;
    const key = ALG.startsWith("HS") ? new TextEncoder().encode(KEY) : createPrivateKey(readFileSync(KEY));
    const iat = Math.round(Date.now() / 1000);
    const exp = iat + 3600;
    const claims = { jti: randomUUID(), iat, exp, iss: CID, sub: CID, aud: AUD };
    if (STR) { claims.iat = String(iat); claims.exp = String(exp); }
    const jws = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ typ: "JWT", alg: ALG }).sign(key);
    process.stdout.write(jws);
  ')
}

# ---------------------------------------------------------------------------
# Keys and certificates
# ---------------------------------------------------------------------------
HAVE_TLS=0
if [ -z "${SMOKE_NO_TLS:-}" ] && command -v openssl >/dev/null 2>&1; then
  HAVE_TLS=1
  (
    set -e
    cd "$TMP"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
      -subj "/CN=Test IdP Server CA" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
      -subj "/CN=127.0.0.1" 2>/dev/null
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
      "extendedKeyUsage=serverAuth" > server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
      -out server.pem -days 2 -extfile server.ext 2>/dev/null

    openssl req -x509 -newkey rsa:2048 -nodes -keyout client-ca.key -out client-ca.pem -days 2 \
      -subj "/CN=Test Client CA" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr \
      -subj "/C=JP/O=Example Corp/CN=tacker-client" 2>/dev/null
    printf '%s\n' "basicConstraints=CA:FALSE" "extendedKeyUsage=clientAuth" > client.ext
    openssl x509 -req -in client.csr -CA client-ca.pem -CAkey client-ca.key -CAcreateserial \
      -out client.pem -days 2 -extfile client.ext 2>/dev/null

    # self-signed client certificate (self_signed_tls_client_auth)
    openssl req -x509 -newkey rsa:2048 -nodes -keyout selfsigned.key -out selfsigned.pem -days 2 \
      -subj "/CN=selfsigned-client" 2>/dev/null
  ) || { echo "FAIL: openssl certificate generation"; exit 1; }
else
  echo "NOTE: openssl not found (or SMOKE_NO_TLS set); TLS / mTLS steps are skipped" >&2
fi

# private_key_jwt key pair (RS256): PEM private key + public JWK
(cd "$IDP_DIR" && OUT="$TMP" node --input-type=module -e '
  import { generateKeyPairSync, X509Certificate } from "node:crypto";
  import { writeFileSync, existsSync, readFileSync } from "node:fs";
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  writeFileSync(`${process.env.OUT}/pkjwt.key`, privateKey.export({ type: "pkcs8", format: "pem" }));
  writeFileSync(`${process.env.OUT}/pkjwt.jwk.json`,
    JSON.stringify({ ...publicKey.export({ format: "jwk" }), kid: "pkjwt-1", use: "sig" }));
  const ss = `${process.env.OUT}/selfsigned.pem`;
  if (existsSync(ss)) {
    const cert = new X509Certificate(readFileSync(ss));
    writeFileSync(`${process.env.OUT}/selfsigned.jwk.json`, JSON.stringify({
      ...cert.publicKey.export({ format: "jwk" }), kid: "ss-1", x5c: [cert.raw.toString("base64")],
    }));
  }
') || { echo "FAIL: key generation"; exit 1; }

# ---------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------
write_config() { # write_config FILE HTTPS(0/1) LENIENT(true/false)
  HTTPS="$2" LENIENT="$3" T="$TMP" node -e '
    const fs = require("fs");
    const T = process.env.T;
    const xClaims = {
      project: { id: "p1", name: "demo", domain: { id: "default", name: "Default" } },
      user: { id: "u1", name: "alice", roles: "admin,member", domain: { id: "default", name: "Default" } },
    };
    const tls = process.env.HTTPS === "1";
    const clients = [
      { client_id: "basic", client_secret: "basic-secret", token_endpoint_auth_method: "client_secret_basic",
        grant_types: ["client_credentials"], x_claims: xClaims, x_ttl: 600 },
      { client_id: "post", client_secret: "post-secret", token_endpoint_auth_method: "client_secret_post" },
      { client_id: "hs256", client_secret: "hs256-secret-0123456789abcdef0123456789",
        token_endpoint_auth_method: "client_secret_jwt", token_endpoint_auth_signing_alg: "HS256" },
      { client_id: "hs512", client_secret: "hs512-secret-0123456789abcdef0123456789abcdef0123456789abcdef0123",
        token_endpoint_auth_method: "client_secret_jwt" },
      { client_id: "pkjwt", token_endpoint_auth_method: "private_key_jwt",
        jwks: { keys: [JSON.parse(fs.readFileSync(`${T}/pkjwt.jwk.json`, "utf8"))] } },
      { client_id: "short", client_secret: "short-secret", x_ttl: 2, x_claims: { project: { id: "p2" } } },
      { client_id: "k8s", client_secret: "k8s-secret", token_endpoint_auth_method: "client_secret_post",
        grant_types: ["password"] },
    ];
    if (tls) {
      clients.push(
        { client_id: "tls", token_endpoint_auth_method: "tls_client_auth",
          tls_client_auth_subject_dn: "CN=tacker-client,O=Example Corp,C=JP" },
        { client_id: "tls-wrongdn", token_endpoint_auth_method: "tls_client_auth",
          tls_client_auth_subject_dn: "CN=someone-else,O=Example Corp,C=JP" },
        { client_id: "bound", client_secret: "bound-secret", token_endpoint_auth_method: "client_secret_basic",
          tls_client_certificate_bound_access_tokens: true, x_claims: xClaims },
        { client_id: "selfsigned", token_endpoint_auth_method: "self_signed_tls_client_auth",
          jwks: { keys: [JSON.parse(fs.readFileSync(`${T}/selfsigned.jwk.json`, "utf8"))] } },
      );
    }
    const cfg = {
      https: tls ? { cert: `${T}/server.pem`, key: `${T}/server.key`, clientCa: `${T}/client-ca.pem` } : null,
      lenient_assertion_times: process.env.LENIENT === "true",
      clients,
      users: {
        alice: { password: "alice-pw", claims: { sub: "alice", groups: ["dev", "ops"], email: "alice@example.com", name: "Alice" } },
      },
    };
    fs.writeFileSync(process.argv[1], JSON.stringify(cfg, null, 2));
  ' "$1"
}

# start_server CONFIG NAME FD -> sets READY (the ready line) ; server stdin is a fifo held on FD
start_server() {
  local cfg="$1" name="$2" fd="$3"
  mkfifo "$TMP/$name.stdin"
  eval "exec $fd<>\"$TMP/$name.stdin\""
  # the server must not inherit the shell's write ends of the fifos (3, 4)
  node "$IDP_DIR/server.mjs" "$cfg" <"$TMP/$name.stdin" >"$TMP/$name.out" 2>"$TMP/$name.err" 3>&- 4>&- &
  local pid=$!
  PIDS+=("$pid")
  eval "${name}_PID=$pid"
  for _ in $(seq 1 100); do
    if [ -s "$TMP/$name.out" ]; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.2
  done
  READY="$(head -n1 "$TMP/$name.out" 2>/dev/null || true)"
}

if [ "$HAVE_TLS" = 1 ]; then
  write_config "$TMP/main.json" 1 true
else
  write_config "$TMP/main.json" 0 true
fi
start_server "$TMP/main.json" main 3
if ! echo "$READY" | jtest 'o.ready === true && o.issuer && o.token_endpoint && o.introspection_endpoint && o.revocation_endpoint && o.jwks_uri' 2>/dev/null; then
  fail "server ready line" "$READY"
  cat "$TMP/main.err" >&2
  exit 1
fi
pass "server ready line: $READY"
[ "$(wc -l <"$TMP/main.out")" -eq 1 ] && pass "stdout has exactly one line" || fail "stdout has exactly one line"

ISSUER="$(echo "$READY" | jget .issuer)"
TOKEN_EP="$(echo "$READY" | jget .token_endpoint)"
INTRO_EP="$(echo "$READY" | jget .introspection_endpoint)"
REVOKE_EP="$(echo "$READY" | jget .revocation_endpoint)"
JWKS_URI="$(echo "$READY" | jget .jwks_uri)"

CURL=(curl -sS --max-time 10)
if [ "$HAVE_TLS" = 1 ]; then
  CURL+=(--cacert "$TMP/ca.pem")
  MTLS=(--cert "$TMP/client.pem" --key "$TMP/client.key")
  case "$ISSUER" in https://127.0.0.1:*) pass "issuer is https" ;; *) fail "issuer is https" "$ISSUER" ;; esac
fi

# ---------------------------------------------------------------------------
# client_credentials token + introspection with every auth method
# ---------------------------------------------------------------------------
RESP="$("${CURL[@]}" -u basic:basic-secret -d grant_type=client_credentials \
  --data-urlencode "scope=tacker openid" "$TOKEN_EP")"
AT="$(echo "$RESP" | jget .access_token 2>/dev/null)"
if [ -n "$AT" ] && echo "$RESP" | jtest 'o.token_type === "Bearer" && o.expires_in === 600 && o.scope === "tacker openid"'; then
  pass "client_credentials token (client_secret_basic): $RESP"
else
  fail "client_credentials token (client_secret_basic)" "$RESP"
fi

CLAIMS_OK='o.active === true && o.client_id === "basic" && o.project && o.project.id === "p1" && o.project.name === "demo" && o.project.domain.id === "default" && o.user.roles === "admin,member" && o.user.domain.name === "Default" && Number.isInteger(o.exp) && o.token_type === "Bearer" && o.scope === "tacker openid"'

introspect_check() { # introspect_check NAME curl-args...
  local name="$1"; shift
  local out
  out="$("${CURL[@]}" "$@" -d "token=$AT" -d token_type_hint=access_token "$INTRO_EP")"
  if echo "$out" | jtest "$CLAIMS_OK" 2>/dev/null; then pass "introspect ($name) + extra claims at top level"; else fail "introspect ($name)" "$out"; fi
}

introspect_check client_secret_basic -u basic:basic-secret
introspect_check client_secret_post -d client_id=post -d client_secret=post-secret
JWT="$(mkjwt HS256 hs256-secret-0123456789abcdef0123456789 hs256 "$INTRO_EP")"
introspect_check "client_secret_jwt HS256, aud=introspection endpoint" -d client_id=hs256 \
  -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer -d "client_assertion=$JWT"
JWT="$(mkjwt HS512 hs512-secret-0123456789abcdef0123456789abcdef0123456789abcdef0123 hs512 "$ISSUER")"
introspect_check "client_secret_jwt HS512, aud=issuer" -d client_id=hs512 \
  -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer -d "client_assertion=$JWT"
JWT="$(mkjwt RS256 "$TMP/pkjwt.key" pkjwt "$TOKEN_EP")"
introspect_check "private_key_jwt RS256, aud=token endpoint" -d client_id=pkjwt \
  -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer -d "client_assertion=$JWT"
JWT="$(mkjwt RS256 "$TMP/pkjwt.key" pkjwt "$INTRO_EP" string)"
introspect_check "private_key_jwt RS256, iat/exp as strings (lenient_assertion_times)" -d client_id=pkjwt \
  -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer -d "client_assertion=$JWT"
JWT="$(mkjwt HS256 hs256-secret-0123456789abcdef0123456789 hs256 "$INTRO_EP" string)"
introspect_check "client_secret_jwt HS256, iat/exp as strings (lenient_assertion_times)" -d client_id=hs256 \
  -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer -d "client_assertion=$JWT"
if [ "$HAVE_TLS" = 1 ]; then
  introspect_check tls_client_auth "${MTLS[@]}" -d client_id=tls
  introspect_check "client_secret_basic over mTLS" "${MTLS[@]}" -u basic:basic-secret
fi

# Negative authentication cases: 401 invalid_client
neg_check() { # neg_check NAME EXPECTED_STATUS curl-args...
  local name="$1" want="$2"; shift 2
  local code
  code="$("${CURL[@]}" -o "$TMP/neg.out" -w '%{http_code}' "$@" -d "token=$AT" "$INTRO_EP")"
  if [ "$code" = "$want" ] && jtest 'o.error === "invalid_client"' <"$TMP/neg.out" 2>/dev/null; then
    pass "$name -> $code invalid_client"
  else
    fail "$name" "status $code body $(cat "$TMP/neg.out")"
  fi
}
neg_check "wrong client secret (basic)" 401 -u basic:wrong
JWT="$(mkjwt HS256 hs256-secret-0123456789abcdef0123456789 hs256 "https://somewhere.example/")"
neg_check "client_secret_jwt with foreign aud" 401 -d client_id=hs256 \
  -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer -d "client_assertion=$JWT"
JWT="$(mkjwt HS256 not-the-secret hs256 "$INTRO_EP" string)"
neg_check "client_secret_jwt string times with wrong secret" 401 -d client_id=hs256 \
  -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer -d "client_assertion=$JWT"
if [ "$HAVE_TLS" = 1 ]; then
  neg_check "tls_client_auth without certificate" 401 -d client_id=tls
  neg_check "tls_client_auth with subject DN mismatch" 401 "${MTLS[@]}" -d client_id=tls-wrongdn
  neg_check "tls_client_auth with self-signed (untrusted) cert" 401 \
    --cert "$TMP/selfsigned.pem" --key "$TMP/selfsigned.key" -d client_id=tls
  OUT="$("${CURL[@]}" --cert "$TMP/selfsigned.pem" --key "$TMP/selfsigned.key" -d client_id=selfsigned -d "token=$AT" "$INTRO_EP")"
  echo "$OUT" | jtest "$CLAIMS_OK" 2>/dev/null && pass "introspect (self_signed_tls_client_auth)" || fail "introspect (self_signed_tls_client_auth)" "$OUT"
fi

# oidc-provider treats client_secret_basic and client_secret_post as interchangeable
introspect_check "client_secret_post-registered client via Basic header (accepted)" -u post:post-secret
introspect_check "client_secret_basic-registered client via POST body (accepted)" -d client_id=basic -d client_secret=basic-secret

# Response headers / token_type_hint handling
HDRS="$("${CURL[@]}" -D - -o /dev/null -u basic:basic-secret -d "token=$AT" -d token_type_hint=access_token "$INTRO_EP")"
CT="$(printf '%s' "$HDRS" | tr -d '\r' | awk -F': ' 'tolower($1)=="content-type"{print $2}')"
[ "$CT" = "application/json; charset=utf-8" ] && pass "introspection Content-Type: $CT" || fail "introspection Content-Type" "$CT"
for hint in refresh_token bogus_hint; do
  OUT="$("${CURL[@]}" -u basic:basic-secret -d "token=$AT" -d "token_type_hint=$hint" "$INTRO_EP")"
  echo "$OUT" | jtest 'o.active === true' && pass "token_type_hint=$hint still finds the token" || fail "token_type_hint=$hint" "$OUT"
done
OUT="$("${CURL[@]}" -u basic:basic-secret -d token=not-a-token "$INTRO_EP")"
echo "$OUT" | jtest 'o.active === false && Object.keys(o).length === 1' && pass "unknown token -> {\"active\":false}" || fail "unknown token" "$OUT"

# ---------------------------------------------------------------------------
# Revocation
# ---------------------------------------------------------------------------
CODE="$("${CURL[@]}" -o /dev/null -w '%{http_code}' -u basic:basic-secret -d "token=$AT" -d token_type_hint=access_token "$REVOKE_EP")"
[ "$CODE" = 200 ] && pass "revocation -> 200" || fail "revocation" "status $CODE"
OUT="$("${CURL[@]}" -u basic:basic-secret -d "token=$AT" "$INTRO_EP")"
echo "$OUT" | jtest 'o.active === false' && pass "introspect after revocation -> active:false" || fail "introspect after revocation" "$OUT"

# Revocation by a different client (allowedPolicy: any authenticated client)
AT2="$("${CURL[@]}" -u basic:basic-secret -d grant_type=client_credentials "$TOKEN_EP" | jget .access_token)"
CODE="$("${CURL[@]}" -o /dev/null -w '%{http_code}' -d client_id=post -d client_secret=post-secret -d "token=$AT2" "$REVOKE_EP")"
OUT="$("${CURL[@]}" -u basic:basic-secret -d "token=$AT2" "$INTRO_EP")"
[ "$CODE" = 200 ] && echo "$OUT" | jtest 'o.active === false' && pass "revocation by another client" || fail "revocation by another client" "$CODE $OUT"

# ---------------------------------------------------------------------------
# Expiry: x_ttl=2
# ---------------------------------------------------------------------------
RESP="$("${CURL[@]}" -u short:short-secret -d grant_type=client_credentials "$TOKEN_EP")"
ST="$(echo "$RESP" | jget .access_token)"
echo "$RESP" | jtest 'o.expires_in === 2' && pass "x_ttl sets expires_in" || fail "x_ttl sets expires_in" "$RESP"
OUT="$("${CURL[@]}" -u basic:basic-secret -d "token=$ST" "$INTRO_EP")"
echo "$OUT" | jtest 'o.active === true && o.project.id === "p2" && o.exp - o.iat === 2' && pass "short token active before expiry" || fail "short token active before expiry" "$OUT"
sleep 3
OUT="$("${CURL[@]}" -u basic:basic-secret -d "token=$ST" "$INTRO_EP")"
echo "$OUT" | jtest 'o.active === false' && pass "expired token -> active:false" || fail "expired token" "$OUT"

# ---------------------------------------------------------------------------
# Certificate-bound access token (RFC 8705)
# ---------------------------------------------------------------------------
if [ "$HAVE_TLS" = 1 ]; then
  THUMB="$(openssl x509 -in "$TMP/client.pem" -outform DER | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=\n')"
  RESP="$("${CURL[@]}" "${MTLS[@]}" -u bound:bound-secret -d grant_type=client_credentials "$TOKEN_EP")"
  BT="$(echo "$RESP" | jget .access_token 2>/dev/null)"
  [ -n "$BT" ] && pass "cert-bound token over mTLS" || fail "cert-bound token over mTLS" "$RESP"
  OUT="$("${CURL[@]}" -u basic:basic-secret -d "token=$BT" "$INTRO_EP")"
  echo "$OUT" | THUMB="$THUMB" jtest 'o.active === true && o.cnf && o.cnf["x5t#S256"] === process.env.THUMB && o.user.roles === "admin,member"' \
    && pass "introspection cnf[\"x5t#S256\"] = $THUMB" || fail "introspection cnf x5t#S256" "$OUT (want $THUMB)"
  CODE="$("${CURL[@]}" -o "$TMP/nb.out" -w '%{http_code}' -u bound:bound-secret -d grant_type=client_credentials "$TOKEN_EP")"
  [ "$CODE" = 400 ] && pass "cert-bound client without certificate -> 400 $(cat "$TMP/nb.out")" || fail "cert-bound client without certificate" "$CODE $(cat "$TMP/nb.out")"
fi

# ---------------------------------------------------------------------------
# Password grant (Kubernetes OIDC flow)
# ---------------------------------------------------------------------------
RESP="$("${CURL[@]}" -d grant_type=password -d scope=openid -d client_id=k8s -d client_secret=k8s-secret \
  -d username=alice -d password=alice-pw "$TOKEN_EP")"
IDT="$(echo "$RESP" | jget .id_token 2>/dev/null)"
if [ -n "$IDT" ] && echo "$RESP" | jtest 'o.access_token && o.token_type === "Bearer" && Number.isInteger(o.expires_in)'; then
  pass "password grant"
else
  fail "password grant" "$RESP"
fi
"${CURL[@]}" "$JWKS_URI" >"$TMP/jwks.json"
VERIFY="$(cd "$IDP_DIR" && IDT="$IDT" ISS="$ISSUER" JWKS="$TMP/jwks.json" node --input-type=module -e '
  import * as jose from "jose";
  import { readFileSync } from "node:fs";
  const jwks = jose.createLocalJWKSet(JSON.parse(readFileSync(process.env.JWKS, "utf8")));
  const { payload, protectedHeader } = await jose.jwtVerify(process.env.IDT, jwks, {
    issuer: process.env.ISS, audience: "k8s", algorithms: ["RS256"],
  });
  process.stdout.write(JSON.stringify({ header: protectedHeader, payload }));
' 2>&1)"
if echo "$VERIFY" | jtest 'o.header.alg === "RS256" && o.payload.sub === "alice" && o.payload.aud === "k8s" && o.payload.groups.join() === "dev,ops" && o.payload.email === "alice@example.com" && o.payload.exp > o.payload.iat' 2>/dev/null; then
  pass "id_token verifies with jwks_uri: $(echo "$VERIFY" | jget .payload)"
else
  fail "id_token verification" "$VERIFY"
fi
CODE="$("${CURL[@]}" -o "$TMP/pw.out" -w '%{http_code}' -d grant_type=password -d scope=openid -d client_id=k8s \
  -d client_secret=k8s-secret -d username=alice -d password=wrong "$TOKEN_EP")"
[ "$CODE" = 400 ] && jtest 'o.error === "invalid_grant"' <"$TMP/pw.out" && pass "password grant wrong password -> 400 invalid_grant" \
  || fail "password grant wrong password" "$CODE $(cat "$TMP/pw.out")"
CODE="$("${CURL[@]}" -o "$TMP/pw.out" -w '%{http_code}' -d grant_type=password -d scope=profile -d client_id=k8s \
  -d client_secret=k8s-secret -d username=alice -d password=alice-pw "$TOKEN_EP")"
[ "$CODE" = 400 ] && pass "password grant without openid scope -> 400 $(cat "$TMP/pw.out")" || fail "password grant without openid" "$CODE"
CODE="$("${CURL[@]}" -o "$TMP/pw.out" -w '%{http_code}' -u basic:basic-secret -d grant_type=password -d scope=openid \
  -d username=alice -d password=alice-pw "$TOKEN_EP")"
[ "$CODE" = 400 ] && pass "password grant by a client without the grant type -> 400" || fail "password grant not allowed for client" "$CODE $(cat "$TMP/pw.out")"

# ---------------------------------------------------------------------------
# Second server: plain HTTP, strict (lenient_assertion_times false)
# ---------------------------------------------------------------------------
write_config "$TMP/plain.json" 0 false
start_server "$TMP/plain.json" plain 4
if echo "$READY" | jtest 'o.ready === true && o.issuer.startsWith("http://127.0.0.1:")' 2>/dev/null; then
  pass "plain HTTP server ready: $READY"
  P_INTRO="$(echo "$READY" | jget .introspection_endpoint)"
  P_TOKEN="$(echo "$READY" | jget .token_endpoint)"
  PT="$(curl -sS -u basic:basic-secret -d grant_type=client_credentials "$P_TOKEN" | jget .access_token)"
  JWT="$(mkjwt RS256 "$TMP/pkjwt.key" pkjwt "$P_INTRO")"
  OUT="$(curl -sS -d client_id=pkjwt -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
    -d "client_assertion=$JWT" -d "token=$PT" "$P_INTRO")"
  echo "$OUT" | jtest 'o.active === true && o.project.id === "p1"' && pass "strict server: private_key_jwt numeric iat/exp" || fail "strict server: private_key_jwt" "$OUT"
  JWT="$(mkjwt RS256 "$TMP/pkjwt.key" pkjwt "$P_INTRO" string)"
  CODE="$(curl -sS -o "$TMP/s.out" -w '%{http_code}' -d client_id=pkjwt -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
    -d "client_assertion=$JWT" -d "token=$PT" "$P_INTRO")"
  [ "$CODE" = 401 ] && jtest 'o.error === "invalid_client"' <"$TMP/s.out" \
    && pass "strict server: string iat/exp rejected -> 401 $(cat "$TMP/s.out")" || fail "strict server: string iat/exp" "$CODE $(cat "$TMP/s.out")"

  # stdin EOF terminates the server
  exec 4>&-
  for _ in $(seq 1 25); do kill -0 "$plain_PID" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$plain_PID" 2>/dev/null; then fail "server exits when stdin closes"; else pass "server exits when stdin closes"; fi
else
  fail "plain HTTP server ready" "$READY $(cat "$TMP/plain.err")"
fi

# SIGTERM terminates the main server
kill -TERM "$main_PID" 2>/dev/null
for _ in $(seq 1 25); do kill -0 "$main_PID" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$main_PID" 2>/dev/null; then fail "server exits on SIGTERM"; else pass "server exits on SIGTERM"; fi

if [ "$FAIL" -ne 0 ]; then
  echo "--- server stderr (main) ---" >&2
  cat "$TMP/main.err" >&2
fi
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
