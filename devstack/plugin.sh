# shellcheck shell=bash source-path=SCRIPTDIR
#
# plugin.sh - devstack entry point of tacker-rs.
#
# devstack sources this file as `plugin.sh stack <phase>`, `plugin.sh unstack` and
# `plugin.sh clean` (after devstack/settings). It runs only when the `tacker` service is
# enabled; `tacker-conductor` is the second service. See devstack/README.md.

_XTRACE_TACKER_PLUGIN=$(set +o | grep xtrace)
set +o xtrace

# shellcheck source=lib/tacker
source "$(dirname "${BASH_SOURCE[0]}")/lib/tacker"

if is_service_enabled tacker; then
    case "${1:-}/${2:-}" in
        stack/pre-install)
            ;;
        stack/install)
            echo_summary "Installing tacker-rs"
            install_tacker
            ;;
        stack/post-config)
            echo_summary "Configuring tacker-rs"
            configure_tacker
            init_tacker
            create_tacker_accounts
            ;;
        stack/extra)
            echo_summary "Starting tacker-rs (tacker-server and tacker-conductor)"
            start_tacker
            tacker_register_default_vim
            ;;
        stack/test-config)
            ;;
        unstack/*)
            stop_tacker
            ;;
        clean/*)
            cleanup_tacker
            ;;
    esac
fi

$_XTRACE_TACKER_PLUGIN

# Tell emacs to use shell-script-mode
## Local variables:
## mode: shell-script
## End:
