#!/usr/bin/env bash
# checkdocs.sh -- the knob documentation and the generated profile catalogue
# must agree with the code (curl's "every option has its page" idea).
#
#   1. every knob of knobs[] (mockcloud knobs) has a section in docs/profiles.md
#      with its NAME/DEFAULT/EFFECT/EXAMPLE, and the DEFAULT matches the code;
#   2. docs/profiles.md documents no knob that does not exist;
#   3. profiles/README.md is exactly `mockcloud profiles --markdown`.
#
# Usage: scripts/checkdocs.sh [BINARY]      (default bin/mockcloud)
#        scripts/checkdocs.sh --stub        print doc stubs for undocumented knobs
cd "$(dirname "$0")/.." || exit 1
bin=bin/mockcloud
stub=0
[ "${1:-}" = "--stub" ] && stub=1 && shift
[ -n "${1:-}" ] && bin=$1
[ -x "$bin" ] || { echo "checkdocs: $bin not built"; exit 1; }
doc=docs/profiles.md
[ -f "$doc" ] || { echo "checkdocs: $doc missing"; exit 1; }

fail=0
knobs=$("$bin" knobs) || { echo "checkdocs: '$bin knobs' failed"; exit 1; }
while IFS=$'\t' read -r name type dflt effect; do
  [ -n "$name" ] || continue
  # The section: from "### `name`" to the next heading.
  section=$(awk -v h="### \`$name\`" '$0 == h {on=1; next} on && /^#/ {exit} on {print}' "$doc")
  if [ -z "$section" ]; then
    if [ $stub = 1 ]; then
      printf '### `%s`\n\n- NAME: `%s` (%s)\n- DEFAULT: `%s`\n- EFFECT: %s\n- EXAMPLE: `{"id": "...", "set": {"%s": ...}}`\n\n' \
        "$name" "$name" "$type" "$dflt" "$effect" "$name"
    else
      echo "checkdocs: knob '$name' is not documented in $doc (add a '### \`$name\`' section;"
      echo "           scripts/checkdocs.sh --stub prints one to fill in)"
    fi
    fail=1
    continue
  fi
  for field in NAME DEFAULT EFFECT EXAMPLE; do
    grep -q "^- $field: " <<<"$section" || { echo "checkdocs: '$name' in $doc lacks '- $field:'"; fail=1; }
  done
  got=$(sed -n 's/^- DEFAULT: `\(.*\)`.*$/\1/p' <<<"$section" | head -n1)
  if [ "$got" != "$dflt" ]; then
    echo "checkdocs: '$name' DEFAULT is \`$got\` in $doc but \`$dflt\` in knobs[]"
    fail=1
  fi
done <<<"$knobs"
[ $stub = 1 ] && exit 0

# Knob sections for knobs that do not exist (a rename or a removal).
names=$(cut -f1 <<<"$knobs")
while read -r documented; do
  grep -qxF "$documented" <<<"$names" || { echo "checkdocs: $doc documents '$documented', which is not a knob"; fail=1; }
done < <(sed -n 's/^### `\([a-z0-9_.]*\)`$/\1/p' "$doc")

if ! diff -u profiles/README.md <("$bin" profiles --markdown --profiles profiles) >/tmp/checkdocs.$$ 2>&1; then
  echo "checkdocs: profiles/README.md is out of date: run 'make profiles-readme'"
  head -n 20 /tmp/checkdocs.$$
  fail=1
fi
rm -f /tmp/checkdocs.$$

# The README's profile table names every profile.
for f in profiles/*.json; do
  n=$(basename "$f" .json)
  grep -q "^| \`$n\` |" README.md || { echo "checkdocs: profile '$n' is missing from the README's profile table"; fail=1; }
done
[ $fail = 0 ] && echo "checkdocs: docs/profiles.md and profiles/README.md agree with the code"
exit $fail
