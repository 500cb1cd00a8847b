#!/usr/bin/env bash
# Builds the local test image shoal-test/busybox:latest from Debian's busybox-static (no registry
# is reachable): a rootfs with busybox and its applets, imported with `docker import`. Idempotent.
set -euo pipefail
image=${1:-shoal-test/busybox:latest}
if docker image inspect "$image" >/dev/null 2>&1; then echo "$image already present"; exit 0; fi
busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked'; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
  busybox=/bin/busybox
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/www"
cp "$busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
echo 'root:x:0:0:root:/:/bin/sh' > "$root/etc/passwd"
echo 'shoal test page' > "$root/www/index.html"
tar -C "$root" -c . | docker import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - "$image" >/dev/null
echo "built $image"
