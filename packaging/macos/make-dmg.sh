#!/usr/bin/env bash
# macOS: pack "build/pyinstaller/dist/Loop Orchestrator.app" into a .dmg with an Applications link.
#   packaging/macos/make-dmg.sh       -> dist/loop-orchestrator-<version>-macos-<arch>.dmg
# Run by .github/workflows/installers.yml on a macOS runner; NOT run on the project's Linux machines.
# The app is not signed or notarized: Gatekeeper asks before the first start (right-click, Open).
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ $(uname -s) == Darwin ]] || { echo "error: make-dmg.sh runs on macOS (it needs hdiutil)" >&2; exit 1; }
PY=${PYTHON:-python3}
VERSION=$("$PY" packaging/bundle.py version)
NAME=$("$PY" packaging/bundle.py dist-name)
DISPLAY_NAME=$("$PY" packaging/bundle.py display-name)
APP="build/pyinstaller/dist/$DISPLAY_NAME.app"
[[ -d $APP ]] || { echo "error: $APP is missing; run PyInstaller on packaging/orchestrator-gui.spec first" >&2; exit 1; }
ARCH=$(uname -m)
STAGE=build/dmg-stage
rm -rf "$STAGE"
mkdir -p "$STAGE" dist
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
DMG="dist/$NAME-$VERSION-macos-$ARCH.dmg"
rm -f "$DMG"
hdiutil create -volname "$DISPLAY_NAME $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO -ov "$DMG"
echo "$DMG"
