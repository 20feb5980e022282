#!/usr/bin/env bash
# Checks that `placer simulate --report DIR` renders in headless Chromium from disk (no server):
# the page loads, both SVG plots load and have a size, and a screenshot is taken for a person
# to look at.
#
#   apt-get install -y chromium            # Debian's Chromium
#   cargo build --release -p sched-bin
#   bash simulator/tests/check_report_chromium.sh [path/to/placer] [output dir]
#
# Prints "report renders: allocation-plot:ok nodes-plot:ok" and the screenshot's path, or
# fails with what went wrong.
set -euo pipefail
cd "$(dirname "$0")/../.."
placer="${1:-target/release/placer}"
out="${2:-$(mktemp -d)}"
mkdir -p "$out"
chrome="$(command -v chromium || command -v chromium-browser || true)"
[ -n "$chrome" ] || { echo "chromium is not installed (apt-get install -y chromium)" >&2; exit 2; }
[ -x "$placer" ] || { echo "no placer binary at $placer (cargo build --release -p sched-bin)" >&2; exit 2; }

report="$out/report"
"$placer" simulate --cluster examples/cluster.yaml --scenario examples/scenarios/busy-morning.yaml \
  --drain worker-b1 --report "$report" > "$out/table.txt"

# A wrapper page loads the report in an iframe and records, for each image, whether it
# loaded with a non-zero size. File pages are separate origins unless file access is allowed.
cat > "$report/check.html" <<'HTML'
<!DOCTYPE html><html><body><iframe id="f" src="index.html" width="1200" height="2000"></iframe>
<script>
document.getElementById('f').onload = function () {
  var d = this.contentDocument, out = [];
  for (var i = 0; i < d.images.length; i++) {
    var im = d.images[i];
    out.push(im.id + ':' + (im.complete && im.naturalWidth > 0 ? 'ok' : 'broken'));
  }
  var h = d.querySelector('h1');
  document.body.setAttribute('data-result', (h ? h.textContent : 'no-title') + '|' + out.join(' '));
};
</script></body></html>
HTML

flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update
       --no-first-run --user-data-dir="$(mktemp -d)" --allow-file-access-from-files)
dom="$("$chrome" "${flags[@]}" --virtual-time-budget=5000 --dump-dom "file://$report/check.html" 2>/dev/null)"
result="$(printf '%s' "$dom" | grep -o 'data-result="[^"]*"' | head -1 | sed 's/data-result="//; s/"$//')"
[ -n "$result" ] || { echo "the page did not load in Chromium" >&2; exit 1; }
case "$result" in
  "Placer simulation report|allocation-plot:ok nodes-plot:ok") ;;
  *) echo "report does not render: $result" >&2; exit 1 ;;
esac
"$chrome" "${flags[@]}" --window-size=1200,1800 --screenshot="$out/report.png" "file://$report/index.html" 2>/dev/null
[ -s "$out/report.png" ] || { echo "no screenshot was written" >&2; exit 1; }
echo "report renders: allocation-plot:ok nodes-plot:ok"
echo "screenshot: $out/report.png"
