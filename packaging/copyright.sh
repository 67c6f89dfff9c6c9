#!/usr/bin/env bash
# The copyright file of a binary built from this source, on stdout: ours (MIT) and the Rust
# crates linked into the extension, each with the license it declares, then the license texts
# (packaging/debian/copyright.in with its @CRATES@ line filled in). The Debian package's
# copyright file (packaging/debian/build.sh) and the ready-built archives' COPYRIGHT
# (scripts/dist.sh).
#
# Fails if a crate is under a license whose text copyright.in does not carry.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() { printf 'copyright: error: %s\n' "$*" >&2; exit 1; }

crates=$(cargo tree --offline -e normal,no-proc-macro --prefix none -f '{p} {l}' \
    | sed -e 's/ ([^)]*)//g' | awk 'NF >= 3 && $1 != "php-smtp"' | sort -u)
[[ -n $crates ]] || die "cargo tree listed no crates"
while read -r name ver license; do
    expr=${license//\// OR }
    # Used under MIT when MIT is on offer; otherwise every license named must be one whose
    # text copyright.in carries.
    if [[ " $expr " == *" OR MIT "* || " $expr " == *" MIT OR "* || $expr == MIT ]]; then
        continue
    fi
    for id in $expr; do
        case $id in AND | OR | Apache-2.0 | ISC | BSD-3-Clause | Unicode-3.0 | MIT) ;;
            *) die "crate $name $ver is under '$license': add its license text to packaging/debian/copyright.in" ;;
        esac
    done
done <<<"$crates"
awk -v list="$(awk '{ v = $2; sub(/^v/, "", v); l = $3; for (i = 4; i <= NF; i++) l = l " " $i
                       printf " %s %s: %s\n", $1, v, l }' <<<"$crates")" \
    '$0 == "@CRATES@" { printf "%s", list; next } { print }' packaging/debian/copyright.in
