#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
#
# Runs the devstack plugin's phases under the stand-in (tests/devstack/functions) on this
# machine and checks what each phase leaves behind:
#
#   stack pre-install install post-config extra test-config
#       tacker.conf holds the settings, tacker-server and tacker-conductor run, the API
#       answers, the default Kubernetes VIM is registered from a vim_config.yaml
#   unstack   both processes are gone and the port is closed
#   clean     the configuration and data folders are gone
#
#   TACKER_RS_BIN_DIR=target/debug tests/devstack/run-phases.sh [http|tls|oauth2|keystone]
#
#   http      plain HTTP, noauth (TACKER_AUTH_STRATEGY=noauth), Keystone catalogue calls
#             (logged only), a bearer-token VIM with the cluster's CA (the default)
#   tls       tacker-server's own HTTPS with a PKI made by the plugin, client certificates
#             required, an OIDC VIM with the cluster's and the IdP's CAs
#   oauth2    external OAuth 2.0 (auth_strategy keystone): the APIs refuse requests
#             without a token, the VIM is registered all the same
#   keystone  the plugin's default with Keystone enabled, against a real Keystone
#             (STANDIN_KEYSTONE_URL, its admin's password in ADMIN_PASSWORD): the
#             service user, [keystone_authtoken], the nfv-orchestration catalogue entry;
#             the APIs take Keystone tokens; python-tackerclient finds Tacker in the
#             catalogue when STANDIN_OPENSTACK_CLI names the `openstack` command
#
# TACKER_RS_BIN_DIR names ready binaries (tacker-server, tacker-conductor,
# tacker-manage): `stack install` builds nothing then. DATABASE_TYPE (sqlite, the
# default; postgresql or mysql with DATABASE_HOST/USER/PASSWORD) picks the database.
# TACKER_PORT picks the port (default: a free one). KEEP_WORKDIR=1 keeps the files.
set -o errexit -o nounset -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
scenario=${1:-http}
bin_dir=${TACKER_RS_BIN_DIR:?TACKER_RS_BIN_DIR must name a folder with tacker-server, tacker-conductor and tacker-manage}
bin_dir=$(cd "$bin_dir" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/tacker-devstack.XXXXXX")

# The environment of stack.sh: devstack's globals and the local.conf of the scenario.
export TACKER_DIR=$repo
export DEST=$work/opt/stack
export DATA_DIR=$DEST/data
export SERVICE_DIR=$DEST/status
export STANDIN_LOG=$work/standin.log
export STANDIN_DB_DIR=$DATA_DIR/db
STACK_USER=$(id -un)
export STACK_USER
export SERVICE_HOST=127.0.0.1
export SERVICE_LISTEN_ADDRESS=127.0.0.1
export SERVICE_TIMEOUT=30
export REGION_NAME=RegionOne
export DATABASE_TYPE=${DATABASE_TYPE:-sqlite}
export ENABLED_SERVICES=tacker,tacker-conductor
export TACKER_RS_BIN_DIR=$bin_dir
export TACKER_CONF_DIR=$work/etc/tacker

# source: _standin_alive and iniget for the checks below.
# shellcheck source=functions
source "$here/functions"

function free_port {
    local port
    for _ in $(seq 50); do
        port=$((20000 + RANDOM % 20000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "no free port found" >&2
    return 1
}
export TACKER_PORT=${TACKER_PORT:-$(free_port)}

function cleanup {
    local pidfile
    for pidfile in "$SERVICE_DIR"/*.pid; do
        if [[ -f "$pidfile" ]]; then
            kill -KILL "$(<"$pidfile")" 2>/dev/null || true
        fi
    done
    if [[ "${KEEP_WORKDIR:-}" == "1" ]]; then
        echo "files kept in $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

function show_logs {
    local log
    for log in "$SERVICE_DIR"/*.log "$STANDIN_LOG"; do
        if [[ -f "$log" ]]; then
            echo "---- $log (last 40 lines)"
            tail -n 40 "$log"
        fi
    done
}

# check description command... - runs a check; on failure shows the logs and stops.
function check {
    local what=$1
    shift
    if "$@"; then
        echo "ok: $what"
    else
        echo "FAILED: $what" >&2
        show_logs >&2
        exit 1
    fi
}

# A CA for the fake cluster and one for the fake IdP (any PEM CA will do: VIM registration
# does not reach the endpoint).
"$bin_dir/tacker-manage" --config-file /dev/null ca --dir "$work/fake-ca" init >/dev/null
cluster_ca=$work/fake-ca/server-ca.pem
idp_ca=$work/fake-ca/client-ca.pem

# The default VIM of every scenario.
export TACKER_K8S_API_ENDPOINT=https://127.0.0.1:6443
export TACKER_VIM_NAME=devstack-k8s
# Nothing answers there: registration must not try to reach the cluster.
export TACKER_K8S_VALIDATE_ON_REGISTER=False
secret=standin-bearer-token-$RANDOM$RANDOM
scheme=http
curl_tls=()
expect_auth=noauth
case "$scenario" in
    http)
        ENABLED_SERVICES+=,keystone
        export TACKER_AUTH_STRATEGY=noauth
        export TACKER_K8S_BEARER_TOKEN=$secret
        export TACKER_K8S_SSL_CA_CERT_FILE=$cluster_ca
        ;;
    keystone)
        : "${STANDIN_KEYSTONE_URL:?the keystone scenario needs STANDIN_KEYSTONE_URL (a running Keystone)}"
        : "${ADMIN_PASSWORD:?the keystone scenario needs ADMIN_PASSWORD (the password of the admin of Keystone)}"
        expect_auth=keystone
        ENABLED_SERVICES+=,keystone
        # What devstack's stack.sh sets for every service; no TLS, so no CA bundle.
        export KEYSTONE_SERVICE_URI=$STANDIN_KEYSTONE_URL
        export SERVICE_PASSWORD=standin-service-password-$RANDOM$RANDOM
        export SERVICE_PROJECT_NAME=service
        export SERVICE_DOMAIN_NAME=Default
        export SSL_BUNDLE_FILE=$DATA_DIR/ca-bundle.pem
        export MEMCACHE_SERVERS=localhost:11211
        export TACKER_K8S_BEARER_TOKEN=$secret
        ;;
    tls)
        scheme=https
        export TACKER_USE_SSL=True
        ssl_dir=$TACKER_CONF_DIR/ssl
        export TACKER_SSL_CLIENT_CA_FILE=$ssl_dir/client-ca.pem
        export TACKER_SSL_CLIENT_CERT=$ssl_dir/client-devstack.pem
        export TACKER_SSL_CLIENT_KEY=$ssl_dir/client-devstack.key
        curl_tls=(--cacert "$ssl_dir/server-ca.pem" --cert "$TACKER_SSL_CLIENT_CERT" --key "$TACKER_SSL_CLIENT_KEY")
        export TACKER_K8S_OIDC_TOKEN_URL=https://127.0.0.1:8443/realms/oidc/protocol/openid-connect/token
        export TACKER_K8S_OIDC_CLIENT_ID=tacker
        export TACKER_K8S_OIDC_CLIENT_SECRET=$secret
        export TACKER_K8S_OIDC_USERNAME=end-user
        export TACKER_K8S_OIDC_PASSWORD=$secret-password
        export TACKER_K8S_SSL_CA_CERT_FILE=$cluster_ca
        export TACKER_K8S_OIDC_CA_FILE=$idp_ca
        export TACKER_VIM_PROJECT_ID=project-a
        ;;
    oauth2)
        expect_auth=keystone
        export TACKER_USE_EXT_OAUTH2_AUTH=True
        export TACKER_EXT_OAUTH2_INTROSPECT_ENDPOINT=http://127.0.0.1:9/introspect
        export TACKER_EXT_OAUTH2_AUDIENCE=http://127.0.0.1:9
        export TACKER_EXT_OAUTH2_CLIENT_ID=tacker_service
        export TACKER_EXT_OAUTH2_CLIENT_SECRET=$secret
        export TACKER_EXT_OAUTH2_AUTH_METHOD=client_secret_basic
        export TACKER_EXT_OAUTH2_MAPPING_PROJECT_ID=project_info.id
        export TACKER_EXT_OAUTH2_MAPPING_ROLES=role_info
        export TACKER_EXT_OAUTH2_MAPPING_USER_DOMAIN_ID=user.domain.id
        export TACKER_EXT_OAUTH2_MAPPING_USER_DOMAIN_NAME=user.domain.name
        export TACKER_K8S_BEARER_TOKEN=$secret
        ;;
    *)
        echo "unknown scenario '$scenario' (http, tls, oauth2 or keystone)" >&2
        exit 2
        ;;
esac
url=$scheme://127.0.0.1:$TACKER_PORT
conf=$TACKER_CONF_DIR/tacker.conf

function api {
    curl --silent --show-error --noproxy '*' --max-time 10 "${curl_tls[@]}" "$@"
}

function status_of {
    api --output /dev/null --write-out '%{http_code}' "$@" 2>/dev/null || true
}

# not command... - succeeds when the command fails.
function not {
    ! "$@"
}

function schema_is_current {
    "$bin_dir/tacker-manage" --config-file "$conf" db version | grep -q "schema is current"
}

function pid_of {
    cat "$SERVICE_DIR/$1.pid"
}

echo "== stack ($scenario, $DATABASE_TYPE, port $TACKER_PORT, files in $work)"
check "stack.sh ran the plugin" "$here/devstack.sh" stack pre-install install post-config extra test-config

# post-config: tacker.conf
check "auth_strategy is $expect_auth" [ "$(iniget "$conf" DEFAULT auth_strategy)" == "$expect_auth" ]
check "bind_port is $TACKER_PORT" [ "$(iniget "$conf" DEFAULT bind_port)" == "$TACKER_PORT" ]
check "state_path is devstack's data folder" [ "$(iniget "$conf" DEFAULT state_path)" == "$DATA_DIR/tacker" ]
if [[ "$DATABASE_TYPE" == "sqlite" ]]; then
    check "the database is devstack's" [ "$(iniget "$conf" database connection)" == "sqlite:///$STANDIN_DB_DIR/tacker.sqlite" ]
    check "the database has the schema" [ -s "$STANDIN_DB_DIR/tacker.sqlite" ]
fi
connection=$(iniget "$conf" database connection)
case "$DATABASE_TYPE" in
    mysql)
        check "the MySQL URL is utf8mb4 without SQLAlchemy plugins" [ "${connection#*\?}" == "charset=utf8mb4" ]
        ;;
    postgresql)
        check "the PostgreSQL URL has no SQLAlchemy parameters" not grep -q "?" <<<"$connection"
        ;;
esac
check "recreate_database was used" grep -q "^recreate_database ${TACKER_DB_NAME:-tacker} " "$STANDIN_LOG"
check "the schema is current" schema_is_current
check "api-paste.ini is in place" [ "$(iniget "$conf" DEFAULT api_paste_config)" == "$TACKER_CONF_DIR/api-paste.ini" ]
if [[ "$scenario" == "oauth2" ]]; then
    check "the external OAuth 2.0 api-paste.ini was copied" \
        cmp -s "$repo/api-paste/api-paste-external-oauth2.ini" "$TACKER_CONF_DIR/api-paste.ini"
else
    check "Tacker's api-paste.ini was copied" cmp -s "$repo/api-paste/api-paste.ini" "$TACKER_CONF_DIR/api-paste.ini"
fi
check "the policy file was copied" [ -f "$(iniget "$conf" oslo_policy policy_file)" ]
check "Kubernetes VIMs are not checked against a cluster" [ "$(iniget "$conf" k8s_vim validate_on_register)" == "False" ]
check "the VIM key folder exists" [ -d "$(iniget "$conf" vim_keys openstack)" ]
check "tacker.conf is not world-readable" [ "$(stat -c %a "$conf")" == "640" ]
case "$scenario" in
    http)
        check "the Keystone catalogue has nfv-orchestration" \
            grep -q "^get_or_create_service tacker nfv-orchestration " "$STANDIN_LOG"
        check "the endpoint is the API's URL" \
            grep -q "^get_or_create_endpoint service-id-tacker RegionOne $url/ " "$STANDIN_LOG"
        ;;
    tls)
        check "use_ssl is on" [ "$(iniget "$conf" DEFAULT use_ssl)" == "True" ]
        check "the server certificate was made" [ -f "$(iniget "$conf" DEFAULT ssl_cert_file)" ]
        check "client certificates are required" [ "$(iniget "$conf" DEFAULT ssl_ca_file)" == "$TACKER_SSL_CLIENT_CA_FILE" ]
        ;;
    oauth2)
        check "[ext_oauth2_auth] is configured" [ "$(iniget "$conf" ext_oauth2_auth introspect_endpoint)" == "$TACKER_EXT_OAUTH2_INTROSPECT_ENDPOINT" ]
        check "use_ext_oauth2_auth is on" [ "$(iniget "$conf" ext_oauth2_auth use_ext_oauth2_auth)" == "True" ]
        check "the mapping is configured" [ "$(iniget "$conf" ext_oauth2_auth mapping_roles)" == "role_info" ]
        check "no [keystone_authtoken] is written" [ -z "$(iniget "$conf" keystone_authtoken auth_url)" ]
        ;;
    keystone)
        check "[keystone_authtoken] auth_url is Keystone's" [ "$(iniget "$conf" keystone_authtoken auth_url)" == "$STANDIN_KEYSTONE_URL" ]
        check "[keystone_authtoken] is devstack's" [ "$(iniget "$conf" keystone_authtoken auth_type)" == "password" ]
        check "the service user is tacker" [ "$(iniget "$conf" keystone_authtoken username)" == "tacker" ]
        check "the region is devstack's" [ "$(iniget "$conf" keystone_authtoken region_name)" == "RegionOne" ]
        check "the service user was created" grep -q "^create_service_user tacker" "$STANDIN_LOG"
        catalogue_service=$(_standin_find services "type=nfv-orchestration" tacker)
        check "the Keystone catalogue has nfv-orchestration" [ -n "$catalogue_service" ]
        endpoints=$(_standin_keystone GET "/endpoints?service_id=$catalogue_service")
        check "its endpoints are the API's URL" grep -q "\"url\": *\"$url/\"" <<<"$endpoints"
        ;;
esac

# extra: the processes and the API
server_pid=$(pid_of tacker)
conductor_pid=$(pid_of tacker-conductor)
check "tacker-server runs (pid $server_pid)" _standin_alive "$server_pid"
check "tacker-conductor runs (pid $conductor_pid)" _standin_alive "$conductor_pid"
check "the version list answers at $url/" [ "$(status_of "$url/")" == "200" ]
check "the health check answers" [ "$(status_of "$url/healthcheck")" == "200" ]
check "the vim_config.yaml is private" [ "$(stat -c %a "$DATA_DIR/tacker/vim_config.yaml")" == "600" ]
check "the vim_config.yaml names the endpoint" grep -q "127.0.0.1:6443" "$DATA_DIR/tacker/vim_config.yaml"
case "$scenario" in
    http|tls)
        vims=$(api "$url/v1.0/vims.json")
        check "the VIM is listed" grep -q "\"name\": *\"$TACKER_VIM_NAME\"" <<<"$vims"
        check "the VIM is the default one" grep -q '"is_default": *true' <<<"$vims"
        check "the VIM's secret is not shown" not grep -q "$secret" <<<"$vims"
        ;;
    oauth2)
        check "the VIM API refuses a request without a token" [ "$(status_of "$url/v1.0/vims.json")" == "401" ]
        ;;
    keystone)
        check "the VIM API refuses a request without a token" [ "$(status_of "$url/v1.0/vims.json")" == "401" ]
        check "the refusal points at Keystone" \
            grep -qi "^www-authenticate: Keystone uri=\"$STANDIN_KEYSTONE_URL\"" <(api -D - -o /dev/null "$url/v1.0/vims.json")
        admin_token=$(_standin_keystone_token)
        vims=$(api -H "X-Auth-Token: $admin_token" "$url/v1.0/vims.json")
        check "the VIM is listed with the admin's Keystone token" grep -q "\"name\": *\"$TACKER_VIM_NAME\"" <<<"$vims"
        nfv=$(_standin_find projects "name=nfv" nfv)
        check "the VIM belongs to the Keystone project nfv" grep -q "\"tenant_id\": *\"$nfv\"" <<<"$vims"
        check "the VIM's secret is not shown" not grep -q "$secret" <<<"$vims"
        check "a made-up token is refused" [ "$(status_of -H "X-Auth-Token: made-up" "$url/v1.0/vims.json")" == "401" ]
        if [[ -n "${STANDIN_OPENSTACK_CLI:-}" ]]; then
            cli_vims=$(env -u OS_CLOUD "$STANDIN_OPENSTACK_CLI" --os-auth-type password --os-auth-url "$STANDIN_KEYSTONE_URL/v3" \
                --os-identity-api-version 3 --os-username admin --os-password "$ADMIN_PASSWORD" \
                --os-project-name admin --os-user-domain-name Default --os-project-domain-name Default \
                --os-region-name RegionOne --os-interface public vim list -f value -c Name 2>&1 || true)
            check "openstack vim list finds Tacker in the catalogue" grep -qx "$TACKER_VIM_NAME" <<<"$cli_vims"
        fi
        ;;
esac
case "$scenario" in
    http)
        check "the VIM carries the cluster's CA" grep -q '"ssl_ca_cert": *"[^"]' <<<"$vims"
        check "the VIM belongs to the Keystone project" grep -q '"tenant_id": *"project-id-nfv"' <<<"$vims"
        ;;
    tls)
        check "the VIM uses OIDC" grep -q '"oidc_token_url": *"https://127.0.0.1:8443/' <<<"$vims"
        check "the VIM belongs to TACKER_VIM_PROJECT_ID" grep -q '"tenant_id": *"project-a"' <<<"$vims"
        check "a client without a certificate is refused" \
            not curl -s -o /dev/null --max-time 5 --cacert "$TACKER_CONF_DIR/ssl/server-ca.pem" "$url/"
        ;;
esac

echo "== unstack"
check "unstack.sh ran the plugin" "$here/devstack.sh" unstack
check "tacker-server stopped" not _standin_alive "$server_pid"
check "tacker-conductor stopped" not _standin_alive "$conductor_pid"
check "the API is closed" [ "$(status_of "$url/")" == "000" ]

echo "== stack again (unstack.sh then stack.sh, as devstack users do)"
check "stack.sh ran the plugin again" "$here/devstack.sh" stack pre-install install post-config extra test-config
server_pid=$(pid_of tacker)
conductor_pid=$(pid_of tacker-conductor)
check "tacker-server runs again" _standin_alive "$server_pid"
check "tacker-conductor runs again" _standin_alive "$conductor_pid"
check "the health check answers again" [ "$(status_of "$url/healthcheck")" == "200" ]
check "unstack.sh ran the plugin again" "$here/devstack.sh" unstack
check "tacker-server stopped again" not _standin_alive "$server_pid"
check "tacker-conductor stopped again" not _standin_alive "$conductor_pid"

echo "== clean"
check "clean.sh ran the plugin" "$here/devstack.sh" clean
check "the configuration is removed" [ ! -e "$TACKER_CONF_DIR" ]
check "the data folder is removed" [ ! -e "$DATA_DIR/tacker" ]

echo "devstack phases passed ($scenario)"
