#!/bin/sh
# Writes a self-contained httpd.conf (and a self-signed certificate) under a
# server root, from httpd.conf.in. Used by `make run`/`make start` and by the
# integration tests, so both run Apache the same way.
#
# usage: render-conf.sh SERVER_ROOT
# env:   PORT TLS_PORT MPM MODULE DOCROOT LOG_LEVEL HANDLER_CONFIG EXTRA
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=${1:?usage: render-conf.sh SERVER_ROOT}
mkdir -p "$root/run"
root=$(cd "$root" && pwd)

cert="$root/cert.pem"
key="$root/key.pem"
if [ ! -s "$cert" ] || [ ! -s "$key" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj /CN=127.0.0.1 \
        -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -addext "basicConstraints=critical,CA:FALSE" \
        -keyout "$key" -out "$cert" 2>/dev/null
fi

# Apache refuses to run its children as root: use Debian's web user then.
user_lines=""
if [ "$(id -u)" = 0 ]; then
    user_lines="User www-data
Group www-data"
fi

export RSW_SERVER_ROOT="$root"
export RSW_PORT="${PORT:-8080}"
export RSW_TLS_PORT="${TLS_PORT:-8443}"
export RSW_MPM="${MPM:-event}"
export RSW_MODULE="${MODULE:?MODULE must name the built mod_rswebsocket.so}"
export RSW_APACHE_MODULES="$(apxs -q LIBEXECDIR)"
export RSW_DOCROOT="${DOCROOT:-$here/site}"
export RSW_LOG_LEVEL="${LOG_LEVEL:-warn rswebsocket:info}"
export RSW_HANDLER_CONFIG="${HANDLER_CONFIG:-WebSocketHandlerRoot \"$here/handlers\"}"
export RSW_EXTRA="${EXTRA:-}"
export RSW_USER_LINES="$user_lines"
export RSW_CERT="$cert"
export RSW_KEY="$key"

perl -pe 's/\@([A-Z_]+)\@/exists $ENV{"RSW_$1"} ? $ENV{"RSW_$1"} : die "no value for \@$1\@\n"/ge' \
    "$here/httpd.conf.in" > "$root/httpd.conf"
echo "$root/httpd.conf"
