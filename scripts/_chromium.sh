# Sourced by scripts/test: the dashboard's browser test drives Debian's system Chromium
# (/usr/bin/chromium) with playwright; nothing downloads a browser of its own (no
# `playwright install`). Installed here with apt when missing (as root, or with sudo).
if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium for the dashboard's browser test" >&2
  if [ "$(id -u)" = 0 ]; then apt_get="apt-get"; else apt_get="sudo apt-get"; fi
  $apt_get update -qq
  DEBIAN_FRONTEND=noninteractive $apt_get install -y -qq chromium >/dev/null
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "The dashboard test needs /usr/bin/chromium: apt-get install -y chromium" >&2
  exit 1
fi
