#!/usr/bin/env bash
# Re-run the reproductions of ../shared/research/reliability-probe.md (defects D1–D16) and of issue 25's causes
# (scripts/reliability_probe_round2.sh, R1–R7) against this checkout and print one line per case: what the probe found, what happens now, and whether that is what the fix promises.
#
#   bash scripts/reliability_probe.sh          # after bash scripts/setup.sh --dev; ~3 minutes
#
# Everything happens in a fresh temporary folder (its own STUDIO_HOME); the read-only and full-disk cases mount small
# tmpfs folders there and are skipped when mounting is not allowed (it needs root). Nothing outside it is touched.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PROBE=$(mktemp -d)
export STUDIO_HOME=$PROBE/home OMP_NUM_THREADS=1 PYTHONPATH=$REPO
PY=$REPO/.venv/bin/python
st() { "$PY" -m studio "$@"; }
WB=(--engine warp --width 256 --height 256 --frames 4)  # batch add takes no --quiet
W=("${WB[@]}" --quiet)
D=(--models "$PROBE/models/good" --width 96 --height 64 --steps 2 --face-model none --quiet)
MOUNTS=()
cleanup() { for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$PROBE"; }
trap cleanup EXIT
cd "$PROBE"
mkdir -p in out victim
cp "$REPO/assets/sample_motion.mp4" in/v.mp4
cp -r "$REPO/../shared/fixtures/stableanimator-tiny/checkpoints" models_good 2>/dev/null && mkdir -p models \
  && mv models_good models/good
"$PY" - <<'EOF'
import numpy as np
from PIL import Image
from skimage import data

a = data.astronaut()
Image.fromarray(a).save("in/a.png")
Image.fromarray(a).save("in/b.png")
open("in/p_empty.png", "wb").close()
gray = (np.asarray(Image.fromarray(a).convert("L"), np.uint16) * 257)
Image.fromarray(gray).save("in/p_16gray.png")  # uint16 → mode I;16
rgba = np.dstack([a, np.full(a.shape[:2], 255, np.uint8)])
rgba[:, :100, 3] = 0
Image.fromarray(rgba, "RGBA").save("in/p_alpha.png")
Image.new("1", (30000, 30000)).save("in/p_huge30k.png")
EOF

pass=0; fail=0
check() {  # ID, what the probe found, what must hold now, the condition (evaluated here)
  local id=$1 before=$2 promise=$3 condition=$4
  if eval "$condition" >/dev/null 2>&1; then verdict=ok; pass=$((pass + 1)); else verdict=FAILED; fail=$((fail + 1)); fi
  printf '| %s | %s | %s | %s |\n' "$id" "$before" "$promise" "$verdict"
}
run() { local name=$1; shift; "$@" >"$PROBE/$name.out" 2>"$PROBE/$name.err"; echo $? >"$PROBE/$name.rc"; }
rc() { [ "$(cat "$PROBE/$1.rc")" = "$2" ]; }
says() { grep -q -- "$2" "$PROBE/$1.err" "$PROBE/$1.out"; }
no_tb() { ! grep -q "Traceback" "$PROBE/$1.err"; }
one_line() { no_tb "$1" && [ "$(grep -cv '^\s*$' "$PROBE/$1.err")" -le 2 ]; }

echo "| case | the probe found | must hold now | now |"
echo "|---|---|---|---|"

# D1: a user's folder at an output name
mkdir -p out/d1/o_frames/my_project && echo notes > out/d1/o_frames/my_project/notes.txt
run d1a st render "${W[@]}" --png --reference in/a.png --motion in/v.mp4 --out out/d1/o.mp4
check D1a "--png wiped OUT_frames/" "refused, notes.txt kept" 'rc d1a 1 && grep -q notes out/d1/o_frames/my_project/notes.txt'
mkdir -p out/d1b/o.mp4/sub && echo data > out/d1b/o.mp4/sub/keep.txt
run d1b st render "${W[@]}" --reference in/a.png --motion in/v.mp4 --out out/d1b/o.mp4
check D1b "a folder named o.mp4 deleted" "refused, keep.txt kept" 'rc d1b 1 && [ -f out/d1b/o.mp4/sub/keep.txt ]'

# D2: planted symlinks at temporary names
echo IMPORTANT > victim/important.txt; mkdir -p out/d2
for name in .o.partial.probe .o.partial.json .o.partial.mp4; do ln -s "$PROBE/victim/important.txt" "out/d2/$name"; done
run d2 st render "${W[@]}" --reference in/a.png --motion in/v.mp4 --out out/d2/o.mp4
check D2 "victim file truncated/overwritten" "victim intact, o.json a file" 'rc d2 0 && grep -q IMPORTANT victim/important.txt && [ ! -L out/d2/o.json ]'

# D3: outputs over inputs and existing files
mkdir -p out/d3 && cp in/v.mp4 out/d3/v.mp4
run d3a st render "${W[@]}" --reference in/a.png --motion out/d3/v.mp4 --out out/d3/v.mp4
check D3a "--out = --motion replaced the video" "refused, video unchanged" 'rc d3a 1 && says d3a '\''also an input'\'' && cmp -s in/v.mp4 out/d3/v.mp4'
run d3b0 st render "${W[@]}" --reference in/a.png --motion in/v.mp4 --out out/d3/first.mp4
cp out/d3/first.json out/d3/job.json
run d3b st render --request out/d3/job.json --out out/d3/job.mp4 --quiet
check D3b "--out beside its request replaced it" "refused" 'rc d3b 1 && says d3b '\''also an input'\'''
run d3c st render "${W[@]}" --reference in/a.png --motion in/v.mp4 --out out/d3/first.mp4
run d3d st render "${W[@]}" --reference in/a.png --motion in/v.mp4 --out out/d3/first.mp4 --overwrite
check D3c "existing output silently replaced" "refused; --overwrite replaces" 'rc d3c 1 && says d3c '\''pass --overwrite'\'' && rc d3d 0'

# D4: take.mp4 finishing while take_2.mp4 renders
mkdir -p out/d4
(st render "${D[@]}" --steps 10 --reference in/a.png --motion in/v.mp4 --out out/d4/take_2.mp4 \
  >"$PROBE/d4long.out" 2>"$PROBE/d4long.err"; echo $? >"$PROBE/d4long.rc") &
sleep 3
run d4short st render "${W[@]}" --reference in/a.png --motion in/v.mp4 --out out/d4/take.mp4
wait
check D4 "take.mp4 deleted take_2's temporaries" "both finish" 'rc d4long 0 && rc d4short 0 && [ -f out/d4/take_2.mp4 ] && [ -f out/d4/take.mp4 ]'

check new "(found by this script: outputs were private, 0600)" "an output gets 0666 minus the umask" '[ "$(stat -c %a out/d3/first.mp4)" = "$(printf %o $((0666 & ~$(umask))))" ]'

# D5, D8: a bad job row; two jobs on one name
export STUDIO_HOME=$PROBE/home_d5; mkdir -p out/d5
run d5add st batch add --reference in/a.png in/b.png --motion in/v.mp4 --out-dir out/d5 "${WB[@]}"
"$PY" -c "import sqlite3,json;db=sqlite3.connect('$STUDIO_HOME/queue.sqlite3');r=json.loads(db.execute('select request from jobs where id=1').fetchone()[0]);r['version']=2;db.execute('update jobs set request=? where id=1',(json.dumps(r),));db.commit()"
run d5run st batch run --quiet
run d5status st batch status
run d5cancel st batch cancel --all
check D5 "one bad row blocked the queue" "job 2 renders, job 1 fails with its reason" '[ -f out/d5/b__v.mp4 ] && says d5status '\''version 2'\'' && rc d5cancel 0'
export STUDIO_HOME=$PROBE/home_d8; mkdir -p out/d8
run d8a st batch add --reference in/a.png --motion in/v.mp4 --out-dir out/d8 "${WB[@]}" --seed 1
run d8b st batch add --reference in/a.png --motion in/v.mp4 --out-dir out/d8 "${WB[@]}" --seed 2
run d8run st batch run --quiet
check D8 "the second job overwrote the first" "a__v.mp4 and a__v_2.mp4" '[ -f out/d8/a__v.mp4 ] && [ -f out/d8/a__v_2.mp4 ]'

# D6: a corrupt queue database
export STUDIO_HOME=$PROBE/home_d6; mkdir -p out/d6
run d6add st batch add --reference in/a.png --motion in/v.mp4 --out-dir out/d6 "${WB[@]}"
head -c 16384 /dev/urandom > "$STUDIO_HOME/queue.sqlite3"
run d6 st batch status
run d6w st batch cancel --all  # looking changes nothing (issue 25); a writer keeps it aside and starts afresh
check D6 "traceback, file left as it was" "status: damaged, kept; a writer moves it aside" 'rc d6 1 && says d6 damaged && rc d6w 0 && no_tb d6w && says d6w damaged && ls $STUDIO_HOME | grep -q '\''queue.sqlite3.corrupt'\'''

# D7: cancel of a job a dead runner left "running"
export STUDIO_HOME=$PROBE/home_d7; mkdir -p out/d7
run d7add st batch add --reference in/a.png --motion in/v.mp4 --out-dir out/d7 "${WB[@]}"
"$PY" -c "import sqlite3;db=sqlite3.connect('$STUDIO_HOME/queue.sqlite3');db.execute(\"update jobs set state='running', attempts=1 where id=1\");db.commit()"
run d7status st batch status
run d7cancel st batch cancel 1
run d7run st batch run --quiet
check D7 "cancel thrown away, job rendered again" "shown interrupted; stays cancelled" 'says d7status interrupted && [ ! -f out/d7/a__v.mp4 ] && st batch status | grep -q cancelled'
export STUDIO_HOME=$PROBE/home

# D9, D11, D16 photos
run d9 st render "${W[@]}" --reference in/p_huge30k.png --motion in/v.mp4 --out out/d9/o.mp4
check D9 "DecompressionBombError traceback" "one line" 'rc d9 1 && one_line d9'
run d11 st render "${W[@]}" --reference in/p_16gray.png --motion in/v.mp4 --out out/d11/o.mp4
check D11 "16-bit grey turned white, 'no person'" "renders" 'rc d11 0'
run d16a st render "${W[@]}" --reference in/p_empty.png --motion in/v.mp4 --out out/d16/o.mp4
check D16a "0-byte photo: 'choose another video'" "says photo" 'says d16a '\''choose another photo'\'''
mkfifo in/fifo.mp4
run d16b timeout 20 "$PY" -m studio render "${W[@]}" --reference in/a.png --motion in/fifo.mp4 --out out/d16/f.mp4
check D16b "FIFO 'does not exist'" "'not a regular file'" 'says d16b '\''not a regular file'\'''
run d16c st render "${W[@]}" --reference in/p_alpha.png --motion in/v.mp4 --out out/d16/alpha.mp4
check D16c "RGBA hidden RGB used" "renders (alpha composited)" 'rc d16c 0'
check D16d "W0000 lines with --quiet" "none" '! grep -q W0000 $PROBE/d16c.err'

# D10: raw tracebacks
mkdir -p req && "$PY" - <<EOF
import json
side = json.load(open("out/d3/first.json"))["request"]
side.update(steps="2", fps="7")
json.dump(side, open("req/steps_str.json", "w"))
EOF
run d10a st render --request req/steps_str.json --out out/d10/o.mp4 --quiet
check D10a "string numbers: TypeError" "one line" 'rc d10a 1 && one_line d10a'
run d10b st render "${W[@]}" --reference in/a.png --motion in/v.mp4 --start nan --out out/d10/n.mp4
check D10b "--start nan: ValueError" "one line" 'rc d10b 1 && one_line d10b'
run d10c timeout 30 "$PY" -m studio extract-motion in/fifo.mp4 --reference in/a.png --out out/d10/m --quiet
check D10c "FIFO extract: 60 s then traceback" "one line at once" 'rc d10c 1 && one_line d10c'
mkdir -p in/mj1 && echo '{"frames":[{"source":5}],"source":{"width":320,"height":320,"fps":12}}' > in/mj1/motion.json
run d10d st render "${W[@]}" --reference in/a.png --motion in/mj1 --out out/d10/j.mp4
check D10d "malformed motion.json: AttributeError" "one line" 'rc d10d 1 && one_line d10d'

# D10 (read-only, full disk), D12: need tmpfs mounts
mkdir -p ro full
if mount -t tmpfs -o size=1m,ro tmpfs ro 2>/dev/null && mount -t tmpfs -o size=2m tmpfs full 2>/dev/null; then
  MOUNTS+=("$PROBE/ro" "$PROBE/full")
  run d10e st extract-motion in/v.mp4 --reference in/a.png --out ro/motion --quiet
  check D10e "extract into read-only: OSError traceback" "one line" 'rc d10e 1 && one_line d10e'
  run d10f st extract-motion in/v.mp4 --reference in/a.png --out full/motion --width 2048 --height 2048 --quiet
  check D10f "extract on a full disk: traceback, half folder" "one line, no folder" 'rc d10f 1 && one_line d10f && [ ! -e full/motion ]'
  head -c 700000 /dev/urandom > full/filler
  run d12 st render --engine warp --width 512 --height 512 --crf 0 --x264-preset ultrafast --quiet --reference in/a.png --motion in/v.mp4 --out full/o/o.mp4
  check D12 "full disk: 'Broken pipe' naming a temp file" "'disk is full', nothing left" 'rc d12 1 && says d12 '\''full'\'' && [ -z "$(ls -A full/o 2>/dev/null)" ]'
else
  echo "| D10e, D10f, D12 | read-only / full disk | — | skipped: mounting a tmpfs needs root |"
fi

# D13: SIGTERM
mkdir -p out/d13
"$PY" -m studio render "${D[@]}" --steps 25 --width 192 --height 192 --reference in/a.png --motion in/v.mp4 \
  --out out/d13/o.mp4 \
  >"$PROBE/d13.out" 2>"$PROBE/d13.err" &
pid=$!
for _ in $(seq 120); do ls -A out/d13 | grep -q partial && break; sleep 0.5; done  # the render is exporting
sleep 2; kill -TERM $pid; wait $pid; echo $? >"$PROBE/d13.rc"
check D13 "SIGTERM: no cleanup, exit 143" "'interrupted', exit 143, nothing left" 'rc d13 143 && says d13 interrupted && [ -z "$(ls -A out/d13)" ]'

# D14, D16: weights
if [ -d models/good ]; then
  cp -r models/good models/legacyfmt
  "$PY" -c "import torch; sd = torch.load('models/legacyfmt/Animation/pose_net.pth', weights_only=True); torch.save(sd, 'models/legacyfmt/Animation/pose_net.pth', _use_new_zipfile_serialization=False)"
  run d14 st doctor --models models/legacyfmt
  check D14 "doctor: legacy .pth 'corrupt'" "doctor accepts it" '! grep -q corrupt $PROBE/d14.out $PROBE/d14.err'
  cp -r models/good models/evil
  "$PY" - <<EOF
import os, torch
class Evil:
    def __reduce__(self):
        return (os.system, ("touch $PROBE/PWNED",))
torch.save({"x": Evil()}, "models/evil/Animation/unet.pth")
EOF
  run d16e st render "${D[@]}" --models models/evil --reference in/a.png --motion in/v.mp4 --out out/d16/evil.mp4
  check D16e "pickle message relays weights_only=False" "refused, no such advice, nothing ran" 'rc d16e 1 && ! says d16e '\''weights_only set to False'\'' && [ ! -e $PROBE/PWNED ]'
fi

# D15: reproducibility
cp in/a.png in/c.png
run d15a st render "${W[@]}" --reference in/c.png --motion in/v.mp4 --out out/d15/first.mp4
"$PY" -c "from PIL import Image; im = Image.open('in/c.png'); im.rotate(180).save('in/c.png')"
run d15b st render --request out/d15/first.json --out out/d15/again.mp4 --quiet
run d15c st render --request out/d15/first.json --out out/d15/strict.mp4 --quiet --strict
check D15a "changed input not noticed" "warns; --strict refuses" 'says d15b changed && rc d15c 1'
"$PY" -c "import json; r = json.load(open('out/d15/first.json'))['request']; r['seed'] = 1.5; json.dump(r, open('req/seed_float.json', 'w'))"
run d15d st render --request req/seed_float.json --out out/d15/seed.mp4 --quiet
check D15b "seed 1.5 accepted" "refused" 'rc d15d 1 && says d15d seed'

# Round 2 (issue 25): the second probe's causes, reproduced with this script's own inputs
. "$REPO/scripts/reliability_probe_round2.sh"

echo
echo "$pass hold, $fail do not (work folder $PROBE; KEEP=1 keeps it)"
[ "$fail" = 0 ]
