#!/usr/bin/env bash
# `make dist`: build the Linux installers from this working tree and check their budgets.
#   dist/loop-orchestrator-<version>-linux-x86_64.tar.gz   a folder that runs from anywhere
#   dist/loop-orchestrator_<version>_amd64.deb             /opt/loop-orchestrator, orchestrator-gui on the PATH
# It installs its own tools: missing Debian packages (when root), PyInstaller in build/dist-venv.
# Everything it writes goes to build/ and dist/. See packaging/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
# This machine's pip.conf names local indexes that may be empty; pip says so once per package.
quiet_pip() { "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }
field() { "$PY" packaging/bundle.py "$1"; }
VERSION=$(field version)
NAME=$(field dist-name)
APP=$(field app-name)
DISPLAY_NAME=$(field display-name)
# Budgets (issue 14): bytes, bytes, seconds. A budget overrun fails make dist after the artifacts are
# written; BUDGETS=warn only prints it (packaging/test-bare.sh builds that way: it tests the installers).
BUDGETS=${BUDGETS:-fail}
MAX_TGZ=$((200 * 1000 * 1000))
MAX_UNPACKED=$((450 * 1000 * 1000))
MAX_START_S=3.0

[[ $(uname -s) == Linux && $(uname -m) == x86_64 ]] || { echo "error: make dist builds on Linux x86_64 only" >&2; exit 1; }
if [[ ! $VERSION =~ ^[0-9][0-9A-Za-z.+~-]*$ ]]; then
  line=$(grep -n '^version *=' pyproject.toml | head -1 | cut -d: -f1)
  echo "pyproject.toml:${line:-1}: error: version '$VERSION' cannot name a Debian package" >&2
  exit 1
fi

T0=$SECONDS
step() { printf '\n== [%3ds] %s\n' $((SECONDS - T0)) "$*"; }

step "build tools"
missing=()
for pkg in $(field build-packages); do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "error: missing Debian packages: ${missing[*]}" >&2
    echo "       install them with: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

VENV=build/dist-venv
stamp=$VENV/.installed-$(cat pyproject.toml packaging/requirements-build.txt | sha1sum | cut -c1-12)
if [[ ! -f $stamp ]]; then
  step "build environment $VENV (PyInstaller and the app's dependencies)"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  quiet_pip "$VENV/bin/python" -m pip install -q --upgrade pip
  quiet_pip "$VENV/bin/python" -m pip install -q -r packaging/requirements-build.txt .
  touch "$stamp"
fi
step "the app, installed as a wheel installs it ($VENV)"
# setuptools reuses build/lib: a file deleted from the source would live on in the wheel.
rm -rf build/lib build/bdist.*
quiet_pip "$VENV/bin/python" -m pip install -q --no-deps --force-reinstall .
"$VENV/bin/pyinstaller" --version | sed 's/^/PyInstaller /'

if [[ -x scripts/build-docs ]]; then
  step "docs (scripts/build-docs -> build/docs-html)"
  [[ -x .venv/bin/python ]] || scripts/bootstrap.sh  # build-docs installs MkDocs into the project's .venv
  scripts/build-docs
else
  rm -rf build/docs-html  # an old site would be bundled in place of the Markdown it no longer matches
  echo "(scripts/build-docs not found: the bundle holds docs/*.md and README.md)"
fi

step "icons"
"$VENV/bin/python" packaging/make_icon.py build/icons 48 256

step "PyInstaller --onedir (packaging/orchestrator-gui.spec)"
rm -rf build/pyinstaller
"$VENV/bin/pyinstaller" --noconfirm --log-level WARN --distpath build/pyinstaller/dist \
  --workpath build/pyinstaller/work packaging/orchestrator-gui.spec
ONEDIR=build/pyinstaller/dist/$APP
while IFS= read -r f; do
  [[ -e $ONEDIR/_internal/$f ]] || { echo "error: the bundle lacks _internal/$f" >&2; exit 1; }
done < <(field required-files)
shown=$("$ONEDIR/$APP" --version)
[[ $shown == *" $VERSION" ]] || { echo "error: '$APP --version' says '$shown', pyproject.toml says $VERSION" >&2; exit 1; }
echo "$shown"

step "Debian package tree"
TOP=$NAME-$VERSION
STAGE=build/stage
rm -rf "$STAGE"
DEB_ROOT=$STAGE/deb
mkdir -p "$DEB_ROOT/DEBIAN" "$DEB_ROOT/opt" "$DEB_ROOT/usr/bin" "$DEB_ROOT/usr/share/applications"
cp -al "$ONEDIR" "$DEB_ROOT/opt/$NAME"
ln -s _internal/docs "$DEB_ROOT/opt/$NAME/docs"
ln -s "/opt/$NAME/$APP" "$DEB_ROOT/usr/bin/$APP"
install -m 644 packaging/loop-orchestrator.desktop "$DEB_ROOT/usr/share/applications/$NAME.desktop"
desktop-file-validate "$DEB_ROOT/usr/share/applications/$NAME.desktop"
for size in 48 256; do
  install -D -m 644 "build/icons/loop-orchestrator-$size.png" \
    "$DEB_ROOT/usr/share/icons/hicolor/${size}x$size/apps/$NAME.png"
done
install -D -m 644 packaging/icons/loop-orchestrator.svg "$DEB_ROOT/usr/share/icons/hicolor/scalable/apps/$NAME.svg"
echo "dpkg-shlibdeps over the bundle's ELF files (about 30 s) ..."
DEPENDS=$("$PY" packaging/deb_depends.py "$DEB_ROOT")
echo "Depends: $DEPENDS"
# The packages with their versions dropped, for people who unpack the .tar.gz.
APT_LINE=$(echo "$DEPENDS" | sed -E 's/ \([^)]*\)//g; s/,//g')
mkdir -p "$DEB_ROOT/usr/share/doc/$NAME"
cat > "$DEB_ROOT/usr/share/doc/$NAME/README" <<EOF
$DISPLAY_NAME $VERSION, installed in /opt/$NAME; the command is $APP.
Documentation: /opt/$NAME/docs. Try: $APP --demo
EOF
installed_kb=$(du -sk --apparent-size "$DEB_ROOT" | cut -f1)
cat > "$DEB_ROOT/DEBIAN/control" <<EOF
Package: $NAME
Version: $VERSION
Architecture: amd64
Maintainer: $DISPLAY_NAME maintainers <maintainers@loop-orchestrator.invalid>
Installed-Size: $installed_kb
Depends: $DEPENDS
Suggests: xvfb, xauth
Section: devel
Priority: optional
Description: desktop app and CLI for Roo Code agent-loop workspaces
 $DISPLAY_NAME shows a Roo Code agent-loop workspace (schedules, TODO, memory,
 task timing, modes) as a spherical thought graph and edits its files.
 A self-contained build: it carries its own Python runtime and Qt.
EOF
chmod -R u+rwX,go+rX,go-w "$DEB_ROOT"

step "dist/$TOP-linux-x86_64.tar.gz"
mkdir -p dist "$STAGE/tar"
cp -al "$ONEDIR" "$STAGE/tar/$TOP"
ln -s _internal/docs "$STAGE/tar/$TOP/docs"
install -m 644 build/icons/loop-orchestrator-256.png "$STAGE/tar/$TOP/$NAME.png"
cat > "$STAGE/tar/$TOP/README.txt" <<EOF
$DISPLAY_NAME $VERSION for Linux x86_64 (built on Debian 12; needs glibc 2.36 or newer).

Run ./$APP from this folder, or from anywhere through a link to it:
    ./$APP --demo            the desktop app on the demo workspace
    ./$APP --help            the command line
It needs no Python. It needs the system's graphics and X libraries; on Debian 12:
    sudo apt-get install --no-install-recommends $APT_LINE
The documentation is in docs/. The .deb package installs the same folder in /opt/$NAME.
EOF
chmod -R u+rwX,go+rX,go-w "$STAGE/tar"
TGZ=dist/$TOP-linux-x86_64.tar.gz
tar --sort=name --owner=0 --group=0 --numeric-owner -C "$STAGE/tar" -czf "$TGZ" "$TOP"

step "dist/${NAME}_${VERSION}_amd64.deb (dpkg-deb)"
DEB=dist/${NAME}_${VERSION}_amd64.deb
# xz at level 1: 20% smaller than gzip for the same time; the default level 6 takes 5 times longer.
dpkg-deb --root-owner-group -Zxz -z1 --build "$DEB_ROOT" "$DEB" >/dev/null
dpkg-deb --info "$DEB" | sed -n '/Package:/,/Depends:/p'

step "budgets: sizes, then cold and later starts of the unpacked .tar.gz under Xvfb (Mesa llvmpipe)"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) (the start time grows with it)"
UNPACK=build/unpacked-tgz
rm -rf "$UNPACK"
mkdir -p "$UNPACK"
tar -C "$UNPACK" -xzf "$TGZ"
tgz_bytes=$(stat -c %s "$TGZ")
unpacked_bytes=$(du -sb "$UNPACK/$TOP" | cut -f1)
deb_bytes=$(stat -c %s "$DEB")
start_json=$("$VENV/bin/python" packaging/measure_start.py "$UNPACK/$TOP/$APP" --runs 3 --json)
warm_json=$("$VENV/bin/python" packaging/measure_start.py "$UNPACK/$TOP/$APP" --runs 3 --warm --json)
within=0
"$PY" - "$tgz_bytes" "$unpacked_bytes" "$deb_bytes" "$start_json" "$warm_json" "$MAX_TGZ" "$MAX_UNPACKED" \
  "$MAX_START_S" <<'EOF' || within=$?
import json, sys
tgz, unpacked, deb = (int(v) for v in sys.argv[1:4])
start, warm = json.loads(sys.argv[4]), json.loads(sys.argv[5])
max_tgz, max_unpacked, max_start = int(sys.argv[6]), int(sys.argv[7]), float(sys.argv[8])
rows = [
    (".tar.gz", f"{tgz / 1e6:.1f} MB", f"<= {max_tgz / 1e6:.0f} MB", tgz <= max_tgz),
    ("unpacked bundle", f"{unpacked / 1e6:.1f} MB", f"<= {max_unpacked / 1e6:.0f} MB", unpacked <= max_unpacked),
    ("cold start to first frame (median of 3)", f"{start['first_frame_s_median']:.2f} s", f"<= {max_start:.1f} s",
     start["first_frame_s_median"] <= max_start),
    ("later start, user folders filled (no budget)", f"{warm['first_frame_s_median']:.2f} s", "", True),
    (".deb (no budget)", f"{deb / 1e6:.1f} MB", "", True),
]
for name, value, budget, ok in rows:
    verdict = "" if not budget else "ok" if ok else "OVER BUDGET"
    print(f"  {name:<46} {value:>10}  {budget:<10} {verdict}")
print(f"  cold starts: first run {start['first_frame_s_first_run']:.2f} s, slowest {start['first_frame_s_max']:.2f} s; "
      f"CPU time to the first frame {start['first_frame_cpu_s_median']:.2f} s\n"
      f"  (median, user+system, all threads); process exit after the screenshot {start['exit_s_median']:.2f} s")
print(f"  later starts: CPU time to the first frame {warm['first_frame_cpu_s_median']:.2f} s (median)")
record = {"tgz_bytes": tgz, "unpacked_bytes": unpacked, "deb_bytes": deb, **start,
          **{f"warm_{k}": v for k, v in warm.items()}}
with open("build/dist-budgets.json", "w") as fh:
    json.dump(record, fh)
sys.exit(0 if all(r[3] for r in rows) else 1)
EOF
step "done"
ls -l "$TGZ" "$DEB"
if ((within != 0)); then
  if [[ $BUDGETS == warn ]]; then
    echo "warning: over budget (BUDGETS=warn: not an error)" >&2
  else
    echo "error: over budget (the artifacts are in dist/; BUDGETS=warn makes this a warning)" >&2
    exit 1
  fi
fi
