#!/usr/bin/env bash
# Build novalet's tiny test guest (Debian cloud kernel + busybox initramfs) into a
# machine-wide cache shared by all clones: ${NOVALET_GUEST_DIR:-/var/cache/novalet/guest}.
# Rebuilds only when this script (which embeds the init files) or the kernel changes.
#   scripts/build-guest.sh [--force]
# Outputs: $DIR/vmlinuz, $DIR/initrd.img, $DIR/guest.json
#
# Serial console protocol of the guest (test/support/guest.ts parses it; keep in sync):
#   NOVALET-READY boot=<16 hex chars, random per boot>
#   NOVALET-HEARTBEAT boot=<id> seq=<n> disks=<a,b> nics=<eth0,eth1> ips=<eth0:10.0.0.5,eth1:...>
#       every second; seq starts at 1 each boot; disks = /sys/block minus loop*/ram*;
#       nics = /sys/class/net minus lo; ips = IPv4 addresses (no prefix length); lists may be empty.
#   NOVALET-DHCP iface=<ethX> ip=<addr>       when udhcpc configured an address
#   NOVALET-ACPI-POWEROFF                     power button pressed; the guest then runs `poweroff -f`
#   NOVALET-CONFIGDRIVE dev=<sr0|vdX> label=config-2 dirs=<2012-08-10,latest> uuid=<meta_data uuid> userdata=<1st line>
#       once per boot and device, for an ISO9660 volume labelled config-2 (an OpenStack config drive)
#   NOVALET-ADMINPASS set sha256=<first 12 hex of the password's sha256>
#       when the config drive's meta_data.json has admin_pass: root's password is set from it (/etc/shadow), as
#       cloud-init does; the line shows which password without printing it
#   user data starting with `#!` (on the config drive) runs once per boot in the background, output on the console
# New NICs are brought up and get DHCP via udhcpc in the background.
# A libvirt soft reboot (`virsh reboot`, ACPI mode) is a power-button press that libvirt turns
# into a reset: the guest prints NOVALET-ACPI-POWEROFF, then a new NOVALET-READY with a new boot id.
# A hard reset (`virsh reset`) just shows a new NOVALET-READY with a new boot id.
set -euo pipefail
SELF=$(readlink -f "$0")
cd "$(dirname "$0")/.."
. scripts/lib.sh

DIR=${NOVALET_GUEST_DIR:-/var/cache/novalet/guest}
CMDLINE="console=ttyS0 quiet panic=-1"
MODULES="button evdev virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk failover net_failover virtio_net scsi_common scsi_mod libata ata_piix cdrom sr_mod isofs"
FORCE=0; [ "${1:-}" = "--force" ] && FORCE=1

mkdir -p "$DIR/debs"
exec 9>"$DIR/.lock"
flock 9

for t in busybox dpkg-deb cpio gzip sha256sum; do
  command -v $t >/dev/null || die "$t missing: run scripts/install.sh"
done
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] && "$BUSYBOX" --list | grep -x acpid >/dev/null || die "busybox-static missing: run scripts/install.sh"

# Fast path (apt-cache takes ~1.5 s here): same script and same apt lists as the last build.
QUICK=$( { sha256sum "$SELF"; stat -c '%n %Y %s' /var/lib/apt/lists/*Packages* 2>/dev/null || true; } | sha256sum | cut -c1-16)
if [ $FORCE = 0 ] && [ -f "$DIR/guest.json" ] && grep -q "\"quickKey\": \"$QUICK\"" "$DIR/guest.json" \
   && [ -s "$DIR/vmlinuz" ] && [ -s "$DIR/initrd.img" ]; then
  log "guest up to date in $DIR"; exit 0
fi

# Resolve the kernel package (what linux-image-cloud-amd64 depends on) and its version.
KPKG=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/ && !n {print $2; n=1}' || true)
KVER=""
[ -n "$KPKG" ] && KVER=$(apt-cache policy "$KPKG" 2>/dev/null | awk '/Candidate:/ && !n {print $2; n=1}' || true)
if [ -z "$KPKG" ] || [ -z "$KVER" ] || [ "$KVER" = "(none)" ]; then
  # No apt lists (offline?): fall back to the newest cached .deb.
  DEB=$(ls -1 "$DIR"/debs/linux-image-*-cloud-amd64_*.deb 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$DEB" ] || die "cannot resolve linux-image-cloud-amd64 (run apt-get update) and no cached kernel .deb in $DIR/debs"
  log "apt lists unavailable; using cached $(basename "$DEB")"
else
  DEB=$(ls -1 "$DIR"/debs/"${KPKG}_${KVER//:/%3a}"_amd64.deb 2>/dev/null | sed -n 1p || true)
fi

HASH=$( { sha256sum "$SELF" | cut -d' ' -f1; echo "${KPKG:-} ${KVER:-} $(basename "${DEB:-none}")"; "$BUSYBOX" 2>&1 | sed -n 1p; } | sha256sum | cut -c1-16)
if [ $FORCE = 0 ] && [ -f "$DIR/guest.json" ] && grep -q "\"inputsHash\": \"$HASH\"" "$DIR/guest.json" \
   && [ -s "$DIR/vmlinuz" ] && [ -s "$DIR/initrd.img" ]; then
  sed -i "s/\"quickKey\": \"[0-9a-f]*\"/\"quickKey\": \"$QUICK\"/" "$DIR/guest.json"
  log "guest up to date in $DIR (inputs $HASH)"; exit 0
fi

if [ -z "${DEB:-}" ] || [ ! -s "$DEB" ]; then
  log "downloading $KPKG=$KVER"
  ( cd "$DIR/debs" && apt-get download -q -o APT::Sandbox::User=root "$KPKG=$KVER" ) || die "apt-get download $KPKG failed"
  DEB=$(ls -1 "$DIR"/debs/"${KPKG}"_*_amd64.deb | sort -V | tail -1)
fi
# Keep only the kernel .deb in use.
find "$DIR/debs" -name 'linux-image-*.deb' ! -path "$DEB" -delete

WORK=$(mktemp -d "$DIR/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
dpkg-deb -x "$DEB" "$WORK/k"
VMLINUZ=$(ls -1 "$WORK"/k/boot/vmlinuz-* | sed -n 1p)
KERNEL_VERSION=${VMLINUZ##*/vmlinuz-}
MODDIR="$WORK/k/lib/modules/$KERNEL_VERSION"

R="$WORK/root"
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc/acpi/PWRF,lib/modules,var/run,mnt}
cp "$BUSYBOX" "$R/bin/busybox"
for m in $MODULES; do
  f=$(find "$MODDIR" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" | sed -n 1p)
  [ -n "$f" ] || die "module $m not found in $KERNEL_VERSION"
  case "$f" in
    *.xz) xz -dc "$f" > "$R/lib/modules/$m.ko" ;;
    *.zst) zstd -dqc "$f" > "$R/lib/modules/$m.ko" ;;
    *) cp "$f" "$R/lib/modules/$m.ko" ;;
  esac
done
echo "$MODULES" > "$R/etc/modules.order"

cat > "$R/init" <<'EOF'
#!/bin/busybox sh
# novalet test guest init (generated by scripts/build-guest.sh)
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
exec </dev/console >/dev/console 2>&1
for m in $(cat /etc/modules.order); do insmod /lib/modules/$m.ko 2>/dev/null; done
ip link set lo up
acpid -c /etc/acpi -l /dev/console -p /tmp/acpid.pid
BOOT=$(hexdump -n 8 -e '8/1 "%02x"' /dev/urandom)
echo "NOVALET-READY boot=$BOOT"
seq=0
while :; do
  seq=$((seq + 1))
  disks=""
  for d in /sys/block/*; do
    [ -e "$d" ] || continue
    n=${d##*/}
    case "$n" in loop*|ram*) continue ;; esac
    disks="${disks:+$disks,}$n"
    if [ ! -e /tmp/seen.$n ]; then
      touch /tmp/seen.$n
      # ISO9660 volume id: 32 bytes at offset 32808 (primary volume descriptor)
      if [ "$(dd if=/dev/$n bs=1 skip=32808 count=32 2>/dev/null | tr -d ' \000')" = config-2 ] \
         && mkdir -p /mnt/$n && mount -t iso9660 -o ro /dev/$n /mnt/$n 2>/dev/null; then
        u=$(sed -n 's/.*"uuid": *"\([^"]*\)".*/\1/p' /mnt/$n/openstack/latest/meta_data.json 2>/dev/null)
        echo "NOVALET-CONFIGDRIVE dev=$n label=config-2 dirs=$(ls /mnt/$n/openstack | tr '\n' ',' | sed 's/,$//') uuid=$u userdata=$(sed -n 1p /mnt/$n/openstack/latest/user_data 2>/dev/null)"
        # the admin password (Nova's admin_pass, as cloud-init's set-passwords applies it): root's, never printed
        p=$(sed -n 's/.*"admin_pass": *"\([^"]*\)".*/\1/p' /mnt/$n/openstack/latest/meta_data.json 2>/dev/null)
        if [ -n "$p" ]; then
          echo "root:x:0:0:root:/root:/bin/sh" > /etc/passwd
          echo "root:$(mkpasswd -m sha512 "$p"):0:0:99999:7:::" > /etc/shadow && chmod 0600 /etc/shadow \
            && echo "NOVALET-ADMINPASS set sha256=$(printf '%s' "$p" | sha256sum | cut -c1-12)"
        fi
        # user data that is a script (`#!` first, as cloud-init runs it) runs once per boot, its output on the console
        if [ "$(head -c 2 /mnt/$n/openstack/latest/user_data 2>/dev/null)" = '#!' ]; then
          cp /mnt/$n/openstack/latest/user_data /tmp/user-data && chmod 0755 /tmp/user-data
          sh /tmp/user-data </dev/null >/dev/console 2>&1 &
        fi
      fi
    fi
  done
  nics=""; ips=""
  for d in /sys/class/net/*; do
    [ -e "$d" ] || continue
    n=${d##*/}
    [ "$n" = lo ] && continue
    nics="${nics:+$nics,}$n"
    pidf=/tmp/udhcpc.$n.pid
    if [ ! -f "$pidf" ] || ! kill -0 "$(cat "$pidf")" 2>/dev/null; then
      ip link set "$n" up 2>/dev/null
      udhcpc -b -S -i "$n" -p "$pidf" -s /etc/udhcpc.script -t 3 -T 2 -A 5 >/dev/null 2>&1
    fi
    for a in $(ip -4 -o addr show dev "$n" 2>/dev/null | sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p'); do
      ips="${ips:+$ips,}$n:$a"
    done
  done
  echo "NOVALET-HEARTBEAT boot=$BOOT seq=$seq disks=$disks nics=$nics ips=$ips"
  sleep 1
done
EOF

cat > "$R/etc/udhcpc.script" <<'EOF'
#!/bin/sh
# busybox udhcpc default.script equivalent (novalet test guest)
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface" 2>/dev/null
    ip link set "$interface" up
    ;;
  bound|renew)
    ip -4 addr flush dev "$interface" 2>/dev/null
    ip addr add "$ip/${mask:-24}" ${broadcast:+broadcast $broadcast} dev "$interface"
    if [ -n "$router" ]; then
      ip route del default dev "$interface" 2>/dev/null
      for r in $router; do ip route add default via "$r" dev "$interface" && break; done
    fi
    : > /etc/resolv.conf
    [ -n "$domain" ] && echo "search $domain" >> /etc/resolv.conf
    for s in $dns; do echo "nameserver $s" >> /etc/resolv.conf; done
    echo "NOVALET-DHCP iface=$interface ip=$ip" > /dev/console
    ;;
  leasefail|nak) ;;
esac
exit 0
EOF

cat > "$R/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
echo "NOVALET-ACPI-POWEROFF" > /dev/console
sync
poweroff -f
EOF
chmod 0755 "$R/init" "$R/etc/udhcpc.script" "$R/etc/acpi/PWRF/00000080"

( cd "$R" && find . | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null | gzip -9n ) > "$WORK/initrd.img"
cp "$VMLINUZ" "$WORK/vmlinuz"
cat > "$WORK/guest.json" <<EOF
{
  "kernel": "$DIR/vmlinuz",
  "initrd": "$DIR/initrd.img",
  "kernelVersion": "$KERNEL_VERSION",
  "kernelPackage": "$(basename "$DEB")",
  "cmdline": "$CMDLINE",
  "minMemoryMiB": 128,
  "inputsHash": "$HASH",
  "quickKey": "$QUICK",
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
EOF
chmod 0644 "$WORK"/vmlinuz "$WORK"/initrd.img "$WORK"/guest.json
# Install atomically-ish: artifacts first, guest.json (the "done" marker) last.
rm -f "$DIR/guest.json"
mv -f "$WORK/vmlinuz" "$DIR/vmlinuz"
mv -f "$WORK/initrd.img" "$DIR/initrd.img"
mv -f "$WORK/guest.json" "$DIR/guest.json"
log "built guest in $DIR: kernel $KERNEL_VERSION, initrd $(du -k "$DIR/initrd.img" | cut -f1) KiB (inputs $HASH)"
