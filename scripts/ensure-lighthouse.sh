#!/usr/bin/env bash
# Installs Lighthouse into tools/lighthouse/node_modules from its own lock file, for the one test
# that scores the console with it (src/console/lighthouse.browser.test.ts) and bench/console-pages.ts.
# It is not a dependency of the project: its ~150 packages and ~14,000 files (puppeteer, Sentry,
# OpenTelemetry, trace engine) made every `npm ci` — a newcomer's first step — ~25 % longer
# for one test (issue 23). `npm test` and `npm run bench` call this; type checking and lint
# read its types too. Idempotent: nothing to do when the installed lock is the checked-in one.
set -euo pipefail
cd "$(dirname "$0")/../tools/lighthouse"

STAMP=node_modules/.installed-package-lock.json
if [ -f "$STAMP" ] && cmp -s package-lock.json "$STAMP"; then
  exit 0
fi
echo "installing Lighthouse (tools/lighthouse, its own lock file)" >&2
npm ci --no-audit --no-fund --loglevel=error >&2
cp package-lock.json "$STAMP"
