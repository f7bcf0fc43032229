# A throwaway PostgreSQL server for the tests (sourced by scripts/test).
# Exports SILLAGE_TEST_POSTGRES_URL and stops the server when the shell exits.

start_throwaway_postgres() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    if [ -z "$bin" ]; then
        echo "== installing PostgreSQL (apt)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
        bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    fi
    PG_DIR=$(mktemp -d /tmp/sillage-pg.XXXXXX)
    chown postgres "$PG_DIR"
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    runuser -u postgres -- "$bin/initdb" -D "$PG_DIR/data" --auth=trust -U postgres >/dev/null
    runuser -u postgres -- "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
        -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
    trap 'runuser -u postgres -- "'"$bin"'/pg_ctl" -D "'"$PG_DIR"'/data" -m immediate stop >/dev/null 2>&1 || true' EXIT
    export SILLAGE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
    export SILLAGE_REQUIRE_POSTGRES=1
    echo "== PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port for the storage tests"
}
