# Sourced by scripts/test and scripts/test-fast: PostgreSQL must be up at 127.0.0.1:5432 for the
# store tests (they fail, never skip, without it). Started here when it is installed but down.
# LEADPOST_TEST_DATABASE_URL points the tests at another server instead (then nothing is checked).
if [ -z "${LEADPOST_TEST_DATABASE_URL:-}" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -n "$(ls /etc/postgresql 2>/dev/null)" ]; then
      echo "PostgreSQL is down at 127.0.0.1:5432: starting it" >&2
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
      for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    fi
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    cat >&2 <<'MSG'
The store tests need PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth, database test),
and it is neither running nor startable here. Install and start it, e.g. on Debian/Ubuntu:
  apt-get install -y postgresql && pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start
  (allow trust auth for 127.0.0.1 in pg_hba.conf, then: createdb -h 127.0.0.1 -U postgres test)
or point LEADPOST_TEST_DATABASE_URL at a server you have. Not running them is a failure.
MSG
    exit 1
  fi
  if ! psql -h 127.0.0.1 -U postgres -d test -Atc "SELECT 1" >/dev/null 2>&1; then
    psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE test" >/dev/null 2>&1 || true
  fi
fi
