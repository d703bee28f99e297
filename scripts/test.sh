#!/usr/bin/env bash
# The whole test run: system packages the tests need, a reachable PostgreSQL, type check,
# lint, then every test. `npm test` runs this; so does CI through .ci/run, which sets
# STUPS_REQUIRE so that no test skips for a missing part. The slow 2 GiB streaming test is not
# part of it: `npm run test:heavy`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-system-packages.sh
export STUPS_HELM="$(bash scripts/ensure-helm.sh || true)" # the chart test's helm (empty: it skips or, under CI, fails)
bash scripts/ensure-lighthouse.sh # the console's Lighthouse test: its own lock in tools/lighthouse, not npm ci's

if command -v pg_isready >/dev/null && ! pg_isready -h 127.0.0.1 -q; then
  echo "PostgreSQL not answering on 127.0.0.1:5432; trying to start the local cluster"
  if command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
fi

# The replicas test runs 3 replicas of every service (33 `stups serve` processes), each with its
# pool, its LISTEN connection and its job-lock connection, beside the other worker's tests:
# Debian's default of 100 connections is too few. A local cluster we can restart gets more.
min_connections=400
if pg_isready -h 127.0.0.1 -q 2>/dev/null; then
  connections="$(psql -h 127.0.0.1 -U postgres -d test -Atc 'show max_connections' 2>/dev/null || echo 0)"
  if (( connections < min_connections )) && command -v pg_ctlcluster >/dev/null; then
    echo "PostgreSQL allows $connections connections; raising max_connections to $min_connections (restart)"
    psql -h 127.0.0.1 -U postgres -d test -qc "alter system set max_connections = $min_connections"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main restart
  fi
fi

# skopeo and umoci have no skip path (the registry tests simply fail without them); say why
# up front instead of after the type check, lint and build.
if [[ ",${STUPS_REQUIRE:-}," == *",skopeo,"* ]]; then
  for tool in skopeo umoci; do
    command -v "$tool" >/dev/null || { echo "STUPS_REQUIRE names skopeo but $tool is missing" >&2; exit 1; }
  done
fi

echo "== type check"
npm run --silent typecheck
echo "== lint"
npm run --silent lint
echo "== build"
npm run --silent build
echo "== tests"
if [[ $# -gt 0 ]]; then
  npx vitest run "$@"
else
  # Lighthouse scores a page by its main thread's blocking time, which the other worker's tests
  # (scrypt, browsers, moto) inflate on two cores: it runs after them, alone.
  npx vitest run --exclude 'src/console/lighthouse.browser.test.ts'
  npx vitest run src/console/lighthouse.browser.test.ts
fi
