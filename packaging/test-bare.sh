#!/usr/bin/env bash
# Prove the Linux installers on a bare Debian 12 (no Python, no Qt, no X libraries):
#   1. build (first time) or reuse a pristine Debian 12 minbase chroot made by debootstrap;
#      every run works on a fresh copy of it, so what one run installs never reaches the next;
#   2. install dist/loop-orchestrator_<version>_amd64.deb with apt (its Depends: alone), check that
#      every ELF file in /opt/loop-orchestrator finds its libraries, then add Xvfb to run it;
#   3. as an ordinary user inside the chroot, under Xvfb:
#        orchestrator-gui --demo --screenshot /tmp/shot.png --size 1280x800
#        orchestrator-gui --demo check
#   4. copy the screenshot out and check it is not blank (window drawn, demo graph in the 3D view);
#   5. unpack the .tar.gz in the same chroot and do 3 and 4 again with it, started from another folder.
# Needs root, debootstrap and the Debian mirror. Builds the artifacts first if dist/ lacks them,
# or always with --rebuild (else it tests whatever dist/ holds for this version).
# Takes about 4-8 minutes the first time, 2-4 when the chroot is reused (see packaging/README.md).
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian), BARE_DIR (default build/bare).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

PY=${PYTHON:-python3}
field() { "$PY" packaging/bundle.py "$1"; }
VERSION=$(field version)
NAME=$(field dist-name)
APP=$(field app-name)
TOP=$NAME-$VERSION
TGZ=dist/$TOP-linux-x86_64.tar.gz
DEB=dist/${NAME}_${VERSION}_amd64.deb
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
BARE=${BARE_DIR:-build/bare}
PRISTINE=$BARE/debian12-minbase     # made once by debootstrap, never entered
R=$BARE/run                         # this run's copy: the chroot the test works in
OUT=build/test-bare                 # screenshots and logs copied out of the chroot
SIZE=1280x800
USER_NAME=tester

T0=$SECONDS
step() { printf '\n== [%3ds] %s\n' $((SECONDS - T0)) "$*"; }
die() { echo "error: $*" >&2; exit 1; }
in_chroot() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
as_user() {
  chroot --userspec="$USER_NAME:$USER_NAME" "$R" /usr/bin/env -i PATH=/usr/bin:/bin LANG=C.UTF-8 \
    HOME="/home/$USER_NAME" USER="$USER_NAME" "$@"
}

REBUILD=0
for arg in "$@"; do
  case $arg in
    --rebuild) REBUILD=1 ;;
    *) echo "usage: packaging/test-bare.sh [--rebuild]" >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || die "test-bare.sh needs root (debootstrap, chroot, mount)"
command -v debootstrap >/dev/null || {
  echo "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
}
if ((REBUILD)) || [[ ! -f $TGZ || ! -f $DEB ]]; then
  step "make dist (budgets only reported: this test is about installing)"
  BUDGETS=warn packaging/dist.sh
fi

unmount_all() {
  # Deepest first; a bind mount left behind would make the next rm reach the host's files.
  for m in dev/shm dev/pts proc; do
    if mountpoint -q "$R/$m" 2>/dev/null; then umount -l "$R/$m" || true; fi
  done
}
trap unmount_all EXIT

step "1. bare Debian 12 (minbase) chroot"
if [[ -f $PRISTINE/.debootstrap-done ]]; then
  echo "reusing $PRISTINE (made $(stat -c %y "$PRISTINE/.debootstrap-done" | cut -d. -f1))"
else
  rm -rf --one-file-system "$PRISTINE"
  mkdir -p "$BARE"
  echo "debootstrap --variant=minbase bookworm from $MIRROR (a few minutes) ..."
  debootstrap --variant=minbase bookworm "$PRISTINE" "$MIRROR" > "$BARE/debootstrap.log" 2>&1 \
    || { tail -20 "$BARE/debootstrap.log"; die "debootstrap failed (log: $BARE/debootstrap.log)"; }
  touch "$PRISTINE/.debootstrap-done"
fi
unmount_all
rm -rf --one-file-system "$R"
cp -a "$PRISTINE" "$R"
mount -t proc proc "$R/proc"
mkdir -p "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$R/dev/pts"
mount -t tmpfs -o mode=1777 tmpfs "$R/dev/shm"
for node in null zero random urandom tty; do
  [[ -e $R/dev/$node ]] || die "the chroot has no /dev/$node (debootstrap could not create device nodes)"
done
cp /etc/resolv.conf "$R/etc/resolv.conf"
if in_chroot sh -c 'ls /usr/bin/python* /usr/lib/python3* >/dev/null 2>&1'; then die "the chroot has a Python"; fi
echo "no Python in the chroot: $(in_chroot sh -c 'ls /usr/bin | grep -c . ') programs in /usr/bin, none python*"
in_chroot useradd --create-home --shell /bin/sh "$USER_NAME"

step "2. apt install ./$(basename "$DEB") (its Depends: alone)"
cp "$DEB" "$R/tmp/"
in_chroot apt-get update -qq
before=$(in_chroot dpkg-query -W -f='${Package}\n' | sort)
in_chroot env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "/tmp/$(basename "$DEB")" > "$BARE/apt-deb.log" 2>&1 || { tail -30 "$BARE/apt-deb.log"; die "apt could not install the .deb"; }
added=$(comm -13 <(echo "$before") <(in_chroot dpkg-query -W -f='${Package}\n' | sort))
echo "apt added $(echo "$added" | wc -l) packages: $(echo "$added" | tr '\n' ' ')"
in_chroot sh -c "command -v $APP" | grep -qx "/usr/bin/$APP" || die "$APP is not on the PATH"
in_chroot test -x "/opt/$NAME/$APP" || die "/opt/$NAME/$APP is missing"
in_chroot test -f "/usr/share/applications/$NAME.desktop" || die "no .desktop entry"
icon=$(in_chroot sed -n 's/^Icon=//p' "/usr/share/applications/$NAME.desktop")
in_chroot sh -c "ls /usr/share/icons/hicolor/*/apps/$icon.*" | sed 's/^/icon: /'
# Every library of every ELF file must resolve from the .deb's dependencies (before Xvfb adds its own).
# LD_LIBRARY_PATH is what the bundle's launcher sets for its own libraries.
cat > "$R/tmp/check-libs.sh" <<'EOF'
#!/bin/sh
find "$1" -type f | while read -r f; do
  [ "$(head -c4 "$f" | tail -c3)" = "ELF" ] || continue
  LD_LIBRARY_PATH="$1/_internal" ldd "$f" 2>/dev/null | grep "not found" | sed "s|^|$f: |"
done
exit 0
EOF
missing=$(in_chroot sh /tmp/check-libs.sh "/opt/$NAME")
[[ -z $missing ]] || { echo "$missing" | head -20; die "libraries not found in the chroot"; }
echo "ldd: every ELF file under /opt/$NAME finds all its libraries"
if in_chroot sh -c 'ls /usr/bin/python* >/dev/null 2>&1'; then die "installing the .deb pulled in a Python"; fi
echo "still no Python in the chroot"
in_chroot "$APP" --version
in_chroot env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends xvfb xauth \
  > "$BARE/apt-xvfb.log" 2>&1 || { tail -30 "$BARE/apt-xvfb.log"; die "apt could not install xvfb"; }
echo "test tools: xvfb xauth"
touch "$R/tmp/.before-runs"

mkdir -p "$OUT"
rm -f "$OUT"/*.png
run_app() {  # run_app LABEL COMMAND_IN_CHROOT: screenshot, then check, as the ordinary user
  local label=$1 exe=$2 t
  t=$SECONDS
  as_user sh -c "cd /tmp && xvfb-run -a -s '-screen 0 1280x1024x24' \"\$0\" --demo --screenshot /tmp/shot.png --size $SIZE" "$exe"
  echo "($label) screenshot run took $((SECONDS - t)) s"
  t=$SECONDS
  as_user sh -c 'cd / && "$0" --demo check' "$exe"
  echo "($label) check took $((SECONDS - t)) s"
  cp "$R/tmp/shot.png" "$OUT/shot-$label.png"
  rm -f "$R/tmp/shot.png"
  if [[ -x build/dist-venv/bin/python ]]; then
    build/dist-venv/bin/python packaging/check_shot.py "$OUT/shot-$label.png" "$SIZE"
  else
    die "build/dist-venv is missing (make dist creates it); cannot check the screenshot"
  fi
}

step "3-4. the .deb: $APP from the PATH, under Xvfb, as user $USER_NAME"
run_app deb "$APP"
in_chroot test -d "/home/$USER_NAME/.local/share/$NAME/demo" || die "the demo copy is not in the user's data folder"
changed=$(in_chroot find "/opt/$NAME" -newer /tmp/.before-runs | head -5)
[[ -z $changed ]] || die "the app wrote into /opt: $changed"
echo "the demo was copied to ~/.local/share/$NAME/demo; nothing under /opt/$NAME changed"

step "5. the .tar.gz in the same chroot, unpacked by the user in ~/apps, started from /tmp and /"
cp "$TGZ" "$R/tmp/"
in_chroot rm -rf "/home/$USER_NAME/.local/share/$NAME" "/home/$USER_NAME/.config" "/home/$USER_NAME/.cache"
as_user mkdir -p "/home/$USER_NAME/apps"
as_user tar -C "/home/$USER_NAME/apps" -xzf "/tmp/$(basename "$TGZ")"
as_user test -x "/home/$USER_NAME/apps/$TOP/$APP" || die "the .tar.gz has no $TOP/$APP"
run_app tgz "/home/$USER_NAME/apps/$TOP/$APP"

# The run's chroot (about 1 GB) is kept only when a step failed, to look into.
unmount_all
if mountpoint -q "$R/proc" || mountpoint -q "$R/dev/pts" || mountpoint -q "$R/dev/shm"; then
  echo "note: $R is still mounted; left in place"
else
  rm -rf --one-file-system "$R"
fi
step "passed in $((SECONDS - T0)) s; screenshots: $ROOT/$OUT/shot-deb.png $ROOT/$OUT/shot-tgz.png"
