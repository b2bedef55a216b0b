#!/usr/bin/env bash
# Builds a local stand-in for denoland/deno:2.9.6 where Docker Hub cannot be reached: a Debian
# bookworm rootfs from the Debian mirror (debootstrap), this machine's deno binary, tini, the
# official image's entry script, user `deno` (uid 1993) and DENO_DIR=/deno-dir/, laid out as the
# official debian image is. Then: BASE=localhost/deno-local:2.9.6 deno task container:check
#
# Needs root, debootstrap, buildah and deno 2.9.6 on PATH. Extra buildah flags (storage root,
# driver) come from BUILDAH_OPTS, e.g. BUILDAH_OPTS="--storage-driver vfs".
set -euo pipefail

TAG=${TAG:-localhost/deno-local:2.9.6}
DENO_VERSION=2.9.6
MIRROR=${MIRROR:-http://deb.debian.org/debian}
read -r -a BUILDAH <<<"buildah ${BUILDAH_OPTS:-}"

deno --version | grep -q "^deno $DENO_VERSION " || {
  echo "deno $DENO_VERSION must be on PATH (it is copied into the image)" >&2
  exit 1
}
for tool in debootstrap buildah apt-get dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (apt-get install $tool)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

echo "debootstrap bookworm (minbase) into $rootfs"
debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 || {
  tail -n 20 "$work/debootstrap.log" >&2
  exit 1
}

echo "adding tini, deno $DENO_VERSION and the deno user"
(cd "$work" && apt-get download -q -o APT::Sandbox::User=root tini >/dev/null)
dpkg-deb -x "$work"/tini_*.deb "$rootfs"
cp "$rootfs/usr/bin/tini" "$rootfs/tini"
install -m 0755 "$(readlink -f "$(command -v deno)")" "$rootfs/usr/bin/deno"
cat >"$rootfs/usr/local/bin/docker-entrypoint.sh" <<'ENTRY'
#!/bin/sh
set -e
case "$1" in
    bundle | cache | completions | doc | eval | fmt | help | info | link | repl | run | test | types )
    exec deno "$@";;
esac
exec "$@"
ENTRY
chmod 0755 "$rootfs/usr/local/bin/docker-entrypoint.sh"
chroot "$rootfs" useradd --uid 1993 --user-group deno
mkdir -p "$rootfs/deno-dir"
chroot "$rootfs" chown deno:deno /deno-dir
# This machine's trust store, so that `deno install` in a build can reach the npm registry through
# whatever TLS-inspecting proxy the machine itself trusts (the official image relies on Deno's
# built-in roots instead).
extra_env=()
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  mkdir -p "$rootfs/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  extra_env=(--env DENO_CERT=/etc/ssl/certs/ca-certificates.crt)
fi
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb

echo "committing $TAG"
tar -C "$rootfs" -cf "$work/rootfs.tar" .
ctr=$("${BUILDAH[@]}" from scratch)
"${BUILDAH[@]}" add "$ctr" "$work/rootfs.tar" / >/dev/null
"${BUILDAH[@]}" config \
  --env DENO_DIR=/deno-dir/ --env DENO_INSTALL_ROOT=/usr/local --env DENO_VERSION=$DENO_VERSION \
  "${extra_env[@]}" \
  --entrypoint '["/tini", "--", "docker-entrypoint.sh"]' \
  --cmd '["eval", "console.log(\"Welcome to Deno!\")"]' "$ctr"
"${BUILDAH[@]}" commit -q --rm "$ctr" "$TAG" >/dev/null
echo "built $TAG"
