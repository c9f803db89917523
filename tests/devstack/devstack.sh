#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
#
# The stand-in's stack.sh / unstack.sh / clean.sh: loads the plugin's settings and runs
# the plugin the way devstack does, each call in its own process (as stack.sh and
# unstack.sh are), with errexit and nounset on.
#
#   devstack.sh stack pre-install install post-config extra test-config
#   devstack.sh unstack
#   devstack.sh clean
#
# TACKER_DIR names the repository of the plugin; the environment carries devstack's
# globals (see run-phases.sh).
set -o errexit -o nounset -o pipefail

standin_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
plugin_dir=${TACKER_DIR:?TACKER_DIR must name the repository}/devstack

# shellcheck source=functions
source "$standin_dir/functions"
# load_plugin_settings
# shellcheck source=../../devstack/settings
source "$plugin_dir/settings"

mode=${1:?usage: devstack.sh stack PHASE... | unstack | clean}
shift
if [[ "$mode" == "stack" ]]; then
    for phase in "$@"; do
        # shellcheck source=../../devstack/plugin.sh
        source "$plugin_dir/plugin.sh" stack "$phase"
    done
else
    # shellcheck source=../../devstack/plugin.sh
    source "$plugin_dir/plugin.sh" "$mode"
fi
