#!/usr/bin/env bash
# Proves that a generated module works untouched: in a throw-away copy of this checkout
# (tracked and untracked-but-not-ignored files, node_modules symlinked), generate
# `invoices --with-task`, then lint, build, migrate a throw-away database from scratch and
# run the generated unit and e2e specs. The copy and the database are removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

log() { printf '\n==> check:generator: %s\n' "$*"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/girder-generator-XXXXXX")
base_url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/girder}"
# The name contains "test": assertTestDatabase refuses to drop anything else.
database_url="${base_url%/*}/girder_generator_test_$(date +%s)_$$"

cleanup() {
  local status=$?
  if [ -f "$work/dist/libs/database/src/index.js" ]; then
    (cd "$work" && node -e '
      const db = require("./dist/libs/database/src");
      db.assertTestDatabase(process.argv[1]);
      db.dropDatabase(process.argv[1]).catch((error) => {
        console.error(error);
        process.exitCode = 1;
      });' "$database_url") || echo "check:generator: could not drop $database_url" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

log "copy to $work"
git ls-files -z --cached --others --exclude-standard --deduplicate |
  while IFS= read -r -d '' file; do
    if [ -e "$file" ]; then printf '%s\0' "$file"; fi
  done |
  xargs -0 cp --parents -t "$work"
ln -s "$root/node_modules" "$work/node_modules"
cd "$work"

log "npm run g:module -- invoices --with-task"
npm run --silent g:module -- invoices --with-task

log "npm run lint"
npm run lint

log "npm run build"
npm run build

log "npm run db:migrate (throw-away database)"
DATABASE_URL="$database_url" npm run db:migrate

log "jest: the generated specs"
npx jest libs/invoices test/invoices

log "passed"
