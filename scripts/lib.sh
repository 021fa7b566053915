# Shared helpers of scripts/run and scripts/test (sourced, not run).

# ensure_packages PKG...: installs the Debian packages that are missing, when it can
# (root, or password-less sudo); otherwise prints the apt line and carries on.
ensure_packages() {
  command -v dpkg-query >/dev/null 2>&1 || { echo "note: not a Debian-like system; make sure these are installed: $*" >&2; return 0; }
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"; else
      echo "note: missing system packages: ${missing[*]}" >&2
      echo "      install them with: sudo apt-get install -y ${missing[*]}" >&2
      return 0
    fi
  fi
  echo "installing system packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null || echo "warning: apt-get update failed" >&2
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null && return 0
  # one package that cannot be installed (e.g. Debian's npm beside a Node.js that ships its
  # own) must not keep the others out: try them one at a time
  for p in "${missing[@]}"; do
    $sudo apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1 ||
      echo "warning: could not install $p; continuing" >&2
  done
}

ensure_cargo() {
  if ! command -v cargo >/dev/null 2>&1; then
    [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
  fi
  command -v cargo >/dev/null 2>&1 || {
    echo "error: cargo not found. Install Rust 1.95 or newer (https://rustup.rs) and try again." >&2
    exit 1
  }
}

# ensure_browser_driver: installs tests/web's pinned npm packages (playwright-core, which drives
# Debian's chromium over DevTools) when missing; the browser checks skip with a reason without.
ensure_browser_driver() {
  [ -d tests/web/node_modules/playwright-core ] && return 0
  if ! command -v npm >/dev/null 2>&1; then
    echo "note: no npm: the browser dashboard checks will be skipped" >&2
    return 0
  fi
  echo "installing the browser test driver (tests/web: npm ci)" >&2
  (cd tests/web && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
    echo "warning: npm ci failed in tests/web; the browser dashboard checks will be skipped" >&2
}

# System packages the plugin needs at run time: Vulkan (lavapipe where there is no GPU) and
# the X11 libraries winit loads for a window.
RUNTIME_PACKAGES=(mesa-vulkan-drivers libvulkan1 libxkbcommon-x11-0 libx11-6 libxcursor1 libxrandr2 libxi6)

# Headless sessions (containers, ssh) often lack XDG_RUNTIME_DIR, which graphics libraries warn
# about; give them a private one.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  export XDG_RUNTIME_DIR="${TMPDIR:-/tmp}/runtime-$(id -u)"
  mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
fi
