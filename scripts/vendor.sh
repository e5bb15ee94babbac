#!/bin/sh
# Copy the front-end libraries that npm installed into node_modules/ to
# static/vendor/, where Django serves them (never from a CDN: government
# networks are often offline). Only the built files the templates use, with
# their source maps (hashed static storage fails on a missing .map).
#
# Usage: scripts/vendor.sh [NODE_MODULES [DEST]]
set -eu

src=${1:-node_modules}
dest=${2:-static/vendor}

copy() {  # copy PACKAGE/FILE... into DEST/SUBDIR/
    subdir=$1
    shift
    mkdir -p "$tmp/$subdir"
    for file in "$@"; do
        if [ ! -f "$src/$file" ]; then
            echo "scripts/vendor.sh: $src/$file is missing; run npm ci first" >&2
            exit 1
        fi
        cp "$src/$file" "$tmp/$subdir/"
    done
}

version() {
    node -p "require(require('path').resolve('$src/$1/package.json')).version"
}

# Build the new tree beside the old one and swap it in, so a failed copy
# never leaves a half-filled static/vendor/ behind.
mkdir -p "$(dirname "$dest")"
tmp=$(mktemp -d "$(dirname "$dest")/.vendor.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

copy htmx htmx.org/dist/htmx.min.js htmx.org/dist/htmx.js
copy leaflet leaflet/dist/leaflet.js leaflet/dist/leaflet.js.map leaflet/dist/leaflet.css
copy leaflet/images leaflet/dist/images/layers.png leaflet/dist/images/layers-2x.png \
    leaflet/dist/images/marker-icon.png leaflet/dist/images/marker-icon-2x.png \
    leaflet/dist/images/marker-shadow.png
copy echarts echarts/dist/echarts.min.js
copy bootstrap bootstrap/dist/css/bootstrap.min.css bootstrap/dist/css/bootstrap.min.css.map \
    bootstrap/dist/js/bootstrap.bundle.min.js bootstrap/dist/js/bootstrap.bundle.min.js.map

for package in htmx.org leaflet echarts bootstrap; do
    echo "$package $(version "$package")"
done > "$tmp/VERSIONS"

rm -rf "$dest"
mv "$tmp" "$dest"
chmod 755 "$dest"
trap - EXIT
echo "static/vendor: $(tr '\n' ' ' < "$dest/VERSIONS")"
