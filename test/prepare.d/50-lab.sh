#!/usr/bin/env bash
# The OpenStack lab (lab/up): installs Debian's OpenStack packages on a fresh machine (about 2 min),
# starts every service (about 1-2 min), or only checks it in a few seconds when it already runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash lab/up
