#!/usr/bin/env bash
# The whole test run: system packages the tests need, a reachable PostgreSQL, type check,
# lint, then every test. `npm test` runs this; so does CI through .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-system-packages.sh

if command -v pg_isready >/dev/null && ! pg_isready -h 127.0.0.1 -q; then
  echo "PostgreSQL not answering on 127.0.0.1:5432; trying to start the local cluster"
  if command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
fi

echo "== type check"
npm run --silent typecheck
echo "== lint"
npm run --silent lint
echo "== build"
npm run --silent build
echo "== tests"
npx vitest run "$@"
