# Headless Chromium and the npm packages of web/ for the browser tests
# (sourced by scripts/test). Installs Debian's chromium when missing and
# runs `npm ci` when web/node_modules is missing or older than the lock
# file; then makes the browser test mandatory.

prepare_browser_tests() {
    if [ ! -x /usr/bin/chromium ]; then
        echo "== installing Chromium (apt)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
    fi
    if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules ]; then
        echo "== npm ci (web/: MapLibre, playwright-core)"
        (cd web && npm ci --no-audit --no-fund --loglevel=error)
        touch web/node_modules
    fi
    export SILLAGE_REQUIRE_BROWSER=1
    echo "== browser tests: $(/usr/bin/chromium --version 2>/dev/null | head -1); screenshots in artifacts/screenshots/"
}
