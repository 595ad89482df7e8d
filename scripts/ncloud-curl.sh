#!/usr/bin/env bash
# Calls the Ncloud SSO face the way NAVER Cloud's API guide signs a request by hand:
# signature v2 made with openssl, sent with curl. Usage:
#   NCP_ACCESS_KEY=… NCP_SECRET_KEY=… scripts/ncloud-curl.sh METHOD URL [BODY]
# URL is absolute (http://127.0.0.1:8080/ncloud/api/v1/users); what is signed is its path
# and query, exactly as sent.
set -euo pipefail
method=$1 url=$2 body=${3-}
: "${NCP_ACCESS_KEY:?set NCP_ACCESS_KEY}" "${NCP_SECRET_KEY:?set NCP_SECRET_KEY}"

uri="/${url#*://*/}"
timestamp=$(($(date +%s%N) / 1000000))
nl=$'\n'
message="${method} ${uri}${nl}${timestamp}${nl}${NCP_ACCESS_KEY}"
signature=$(printf '%s' "$message" | openssl dgst -sha256 -hmac "$NCP_SECRET_KEY" -binary | openssl enc -base64)

args=(-sS -X "$method" "$url"
	-H "x-ncp-apigw-timestamp: ${timestamp}"
	-H "x-ncp-iam-access-key: ${NCP_ACCESS_KEY}"
	-H "x-ncp-apigw-signature-v2: ${signature}")
if [ -n "$body" ]; then
	args+=(-H "Content-Type: application/json" --data-binary "$body")
fi
curl "${args[@]}"
