#!/usr/bin/env sh
# The whole stack with hot reload of API and worker (sources mounted from this checkout).
set -eu
cd "$(dirname "$0")/.."
exec docker compose -f docker-compose.yml -f docker/compose.dev.yml up --build "$@"
