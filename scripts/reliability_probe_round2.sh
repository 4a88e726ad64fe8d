# Issue 25 (hostile use, round 2): one or more reproductions per cause, with this script's own inputs.
# Sourced by scripts/reliability_probe.sh (its helpers: st, run, rc, says, no_tb, one_line, check; W, WB, D; $PROBE).
# Timed cases compare with a small twin of the same command, so a slow machine's start-up is not counted:
# "bounded" means the huge input costs under 5 s more than the small one.

export STUDIO_HOME=$PROBE/home_r2
mkdir -p r2 && cd r2 || exit 1
secs() { "$PY" -c "import time; print(time.monotonic())"; }
elapsed() { "$PY" -c "print(f'{$2 - $1:.1f}')"; }
within5() { "$PY" -c "import sys; sys.exit(0 if ($2) - ($1) < 5 else 1)"; }  # huge − small < 5 s
same_bytes() { "$PY" -c "import sys, hashlib; print(hashlib.sha256(open(sys.argv[1], 'rb').read()).hexdigest())" "$1"; }
frames_in() { "$PY" -c "import sys; from studio.media.video_io import count_video_frames; print(count_video_frames(sys.argv[1]))" "$1"; }
sidecar() { "$PY" -c "import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"; }
has_audio() { "$PY" -c "import sys; from studio.media.video_io import has_audio; sys.exit(0 if has_audio(sys.argv[1]) else 1)" "$1"; }
FF=$("$PY" -c "import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())")

# ---- R1: the queue file is moved aside only when it is the studio's own and SQLite calls it damaged
echo notes > x.txt
run r1a st batch status --db x.txt
run r1b st batch add --db x.txt --reference ../in/a.png --motion ../in/v.mp4 --out-dir out "${WB[@]}"
check R1a "'batch status --db x.txt' renamed x.txt, put a DB there" "refused, x.txt and folder untouched" \
  'rc r1a 1 && rc r1b 1 && says r1a "not a studio queue" && [ "$(cat x.txt)" = notes ] && [ "$(ls)" = x.txt ]'
"$PY" -c "import sqlite3; db = sqlite3.connect('photos.db'); db.execute('create table albums (name)'); db.commit()"
hash_before=$(same_bytes photos.db)
run r1c st batch cancel --all --db photos.db
check R1b "another program's SQLite file taken over" "refused, unchanged" 'rc r1c 1 && [ "$(same_bytes photos.db)" = "$hash_before" ]'
run r1d st batch add --db q.db --reference ../in/a.png --motion ../in/v.mp4 --out-dir out "${WB[@]}"
"$PY" -c "import sqlite3; db = sqlite3.connect('q.db'); db.execute('PRAGMA user_version = 9'); db.close()"
hash_before=$(same_bytes q.db)
run r1e st batch cancel --all --db q.db
run r1f st batch status --db q.db
check R1c "a newer studio's queue moved aside" "refused naming version 9, unchanged" \
  'rc r1e 1 && says r1e "schema version 9" && rc r1f 1 && [ "$(same_bytes q.db)" = "$hash_before" ] && ! ls | grep -q corrupt'
"$PY" -c "import sqlite3; db = sqlite3.connect('q.db'); db.execute('PRAGMA user_version = 1'); db.close()"
"$PY" -c "
import sqlite3, time
db = sqlite3.connect('q.db', isolation_level=None); db.execute('BEGIN IMMEDIATE'); open('locked', 'w').close()
time.sleep(4); db.execute('ROLLBACK')" &
holder=$!
for _ in $(seq 50); do [ -e locked ] && break; sleep 0.1; done
run r1g st batch cancel --all --db q.db
wait $holder
check R1d "a lock held by another program: file moved aside" "waits with a message, then works; nothing moved" \
  'rc r1g 0 && says r1g "locked by another program; waiting" && ! ls | grep -q corrupt && st batch status --db q.db | grep -q cancelled'
cp q.db q_before_status.db
run r1h st batch status --db q.db
check R1e "'batch status' could modify the queue" "status leaves the file byte for byte" 'rc r1h 0 && cmp -s q.db q_before_status.db'

# ---- R2: extract-motion never deletes what it did not write, never reads and writes one folder
run r2a st extract-motion ../in/v.mp4 --reference ../in/a.png --out mo --width 128 --height 128 --max-frames 3 --quiet
echo mine > mo/poses/notes.txt
run r2b st extract-motion ../in/v.mp4 --reference ../in/a.png --out mo --width 128 --height 128 --max-frames 2 --quiet
check R2a "a second run deleted OUT/poses/notes.txt" "refused; notes kept" 'rc r2a 0 && rc r2b 1 && says r2b "did not write" && [ "$(cat mo/poses/notes.txt)" = mine ]'
run r2c st extract-motion ../in/v.mp4 --reference ../in/a.png --out mo --width 128 --height 128 --max-frames 2 --quiet --overwrite
check R2b "(--overwrite)" "new extraction, notes carried over" 'rc r2c 0 && [ "$(cat mo/poses/notes.txt)" = mine ] && [ ! -e mo/poses/frame_2.png ] && [ -e mo/poses/frame_1.png ]'
run r2d st extract-motion mo/poses --reference ../in/a.png --out mo --width 128 --height 128 --quiet
check R2c "OUT/poses into OUT deleted its own input frames" "refused, frames kept" 'rc r2d 1 && one_line r2d && [ -e mo/poses/frame_0.png ]'

# ---- R3: audio is fitted to the video, never the video to the audio
"$FF" -v error -y -i ../in/v.mp4 -f lavfi -i "sine=frequency=300:duration=3.25" -map 0:v -map 1:a -c:v copy -c:a aac short_audio.mp4
run r3a st render --engine warp --width 128 --height 128 --quiet --reference ../in/a.png --motion short_audio.mp4 --out r3/full.mp4
check R3a "3.25 s of audio on a 4 s clip gave fewer frames than reported" "all frames, as reported" \
  'rc r3a 0 && [ "$(frames_in r3/full.mp4)" = "$(sidecar r3/full.json "d[\"output\"][\"frames\"]")" ] && [ "$(frames_in r3/full.mp4)" = 48 ]'
run r3b st render "${W[@]}" --start 3.5 --reference ../in/a.png --motion short_audio.mp4 --out r3/past.mp4
check R3b "a trim past the audio's end: stream-less mp4, exit 0" "the frames reported are in the file" \
  'rc r3b 0 && [ "$(frames_in r3/past.mp4)" = "$(sidecar r3/past.json "d[\"output\"][\"frames\"]")" ] && [ "$(frames_in r3/past.mp4)" -ge 1 ]'
run r3c st render "${W[@]}" --pingpong --reference ../in/a.png --motion short_audio.mp4 --out r3/loop.mp4
check R3c "--pingpong: the sidecar claimed audio" "the sidecar says what was muxed" \
  'rc r3c 0 && [ "$(sidecar r3/loop.json "d[\"output\"][\"audio\"]")" = False ] && ! has_audio r3/loop.mp4 && [ "$(sidecar r3/full.json "d[\"output\"][\"audio\"]")" = True ] && has_audio r3/full.mp4'

# ---- R4: one runner per queue file, however --db is spelled
mkdir -p real elsewhere && ln -s "$PWD/real/q.db" elsewhere/link.db
run r4add st batch add --db real/q.db --reference ../in/a.png --motion ../in/v.mp4 --out-dir r4 --engine warp --width 256 --height 256
(st batch run --db real/q.db --quiet >"$PROBE/r4a.out" 2>"$PROBE/r4a.err"; echo $? >"$PROBE/r4a.rc") &
for _ in $(seq 100); do st batch status --db real/q.db 2>/dev/null | grep -q running && break; sleep 0.2; done
run r4b st batch run --db elsewhere/link.db --quiet
wait
check R4 "a symlinked --db started a second runner on the live job" "refused: another runner" 'rc r4b 1 && says r4b "another batch runner" && rc r4a 0 && [ -f r4/a__v.mp4 ]'

# ---- R5: non-finite numbers
if [ -d ../models/good ]; then
  cp -r ../models/good nanmodels
  "$PY" -c "
import torch; p = 'nanmodels/Animation/pose_net.pth'; sd = torch.load(p, weights_only=True)
k = next(k for k, v in sd.items() if v.is_floating_point() and v.numel() > 1); sd[k].view(-1)[3] = float('nan'); torch.save(sd, p)"
  run r5a st doctor --models nanmodels
  run r5b st render "${D[@]}" --models nanmodels --reference ../in/a.png --motion ../in/v.mp4 --out r5/nan.mp4
  check R5a "NaN in a checkpoint: doctor OK, black video, exit 0" "doctor and render refuse, no output" \
    'rc r5a 1 && says r5a "NaN or infinite" && rc r5b 1 && no_tb r5b && says r5b "NaN or infinite" && [ ! -e r5/nan.mp4 ]'
  cp -r ../models/good vaemodels
  "$PY" -c "
from safetensors.torch import load_file, save_file; p = 'vaemodels/SVD/vae/diffusion_pytorch_model.safetensors'
sd = load_file(p); k = sorted(k for k in sd if sd[k].ndim == 1)[0]; sd[k] = sd[k][:1].clone(); save_file(sd, p)"
  run r5c st doctor --models vaemodels
  check R5b "a VAE tensor of the wrong shape passed doctor" "doctor names it" 'rc r5c 1 && says r5c "wrong shape"'
  cp -r ../models/good hotmodels
  "$PY" -c "
import torch; p = 'hotmodels/Animation/unet.pth'; sd = torch.load(p, weights_only=True)
k = next(k for k in sd if k.endswith('conv_in.weight')); sd[k] = torch.full_like(sd[k], 3e38); torch.save(sd, p)"
  run r5d st render "${D[@]}" --models hotmodels --reference ../in/a.png --motion ../in/v.mp4 --out r5/hot.mp4
  check R5c "frames went NaN: a black video, exit 0" "stops naming the cause, no output" \
    'rc r5d 1 && says r5d "NaN or infinite values after denoising step" && [ -z "$(ls -A r5 2>/dev/null)" ]'
fi
run r5m st extract-motion ../in/v.mp4 --reference ../in/a.png --out mj --width 256 --height 256 --quiet
for bad in NaN 1e30 1e999; do
  mkdir -p "mj_$bad" && "$PY" -c "
import json, sys
data = json.load(open('mj/motion.json'))
data['frames'][1]['source']['body'][0][0] = 12345.678
open(sys.argv[2], 'w').write(json.dumps(data).replace('12345.678', sys.argv[1], 1))" "$bad" "mj_$bad/motion.json"
  run "r5_$bad" st render "${W[@]}" --reference ../in/a.png --motion "mj_$bad" --out "r5/j_$bad.mp4"
done
check R5d "motion.json with NaN / 1e30 / 1e999: tracebacks" "one line each, naming motion.json" \
  'for b in NaN 1e30 1e999; do rc r5_$b 1 && one_line r5_$b && says r5_$b motion.json || exit 1; done'

# ---- R6: bounded work (each: the huge input costs < 5 s more than a small twin)
"$FF" -v error -y -stream_loop 1799 -i ../in/v.mp4 -c copy long.mp4   # two hours
DRY=(render --dry-run --frames 4 --models "$PROBE/models/good" --reference ../in/a.png)  # counts the frames to use
t0=$(secs); run r6s st "${DRY[@]}" --motion ../in/v.mp4; t1=$(secs)
run r6a st "${DRY[@]}" --motion long.mp4; t2=$(secs)
check R6a "--frames 4 of a 4 h clip demuxed it all (77 s)" "2 h clip: $(elapsed "$t1" "$t2") s vs $(elapsed "$t0" "$t1") s" \
  'rc r6a 0 && says r6a "4 frames" && within5 "$t1 - $t0" "$t2 - $t1"'
"$PY" - <<'EOF'
import json
text = open("mj/motion.json").read()
data = json.loads(text)
head = text[: text.index('"frames"')] + '"frames":['
first = ",".join(json.dumps(f) for f in data["frames"][:8])
with open("mj_huge.json", "w") as out:
    out.write(head + first)
    stub = ',{"index":%d,"status":"detected","source":{},"aligned":{}}'
    for i in range(8, 1_000_000):
        out.write(stub % i)
    out.write("]}")
EOF
mkdir -p mj_huge_dir && mv mj_huge.json mj_huge_dir/motion.json
t0=$(secs); run r6ms st render "${W[@]}" --reference ../in/a.png --motion mj --out r6/small.mp4; t1=$(secs)
run r6m st render "${W[@]}" --reference ../in/a.png --motion mj_huge_dir --out r6/huge.mp4; t2=$(secs)
check R6b "a 1e6-frame motion.json, --frames 4: 116 s, 9 GB" "$(elapsed "$t1" "$t2") s vs $(elapsed "$t0" "$t1") s" \
  'rc r6m 0 && rc r6ms 0 && within5 "$t1 - $t0" "$t2 - $t1"'
mkdir -p bigfolder && for i in 1 2 3 4; do head -c 100000000 /dev/zero > bigfolder/f$i; done
t0=$(secs); run r6rs st render "${W[@]}" --reference ../in/p_empty.png --motion ../in/v.mp4 --out r6/e.mp4; t1=$(secs)
run r6r st render "${W[@]}" --reference bigfolder --motion ../in/v.mp4 --out r6/f.mp4; t2=$(secs)
check R6c "a folder as --reference hashed in full first" "refused; $(elapsed "$t1" "$t2") s vs $(elapsed "$t0" "$t1") s" \
  'rc r6r 1 && says r6r "is a folder" && within5 "$t1 - $t0" "$t2 - $t1"'
st batch add --db big.db --reference ../in/a.png --motion ../in/v.mp4 --out-dir r6q "${WB[@]}" >/dev/null 2>&1
"$PY" -c "
import sqlite3; db = sqlite3.connect('big.db'); row = db.execute('select * from jobs where id = 1').fetchone()
cols = [c[1] for c in db.execute('pragma table_info(jobs)')][1:]
for i in range(2, 1001):
    values = dict(zip(cols, row[1:])); values['output'] = values['output'].replace('.mp4', f'_{i}.mp4')
    values['state'] = 'finished' if i % 3 == 0 else 'queued'; values['seconds'] = 12.0
    db.execute(f'insert into jobs ({\",\".join(cols)}) values ({\",\".join(\"?\" * len(cols))})', list(values.values()))
db.commit()"
t0=$(secs); run r6qs st batch status --db q.db; t1=$(secs)
run r6q st batch status --db big.db; t2=$(secs)
check R6d "batch status of 1000 jobs: 43 s (quadratic ETA)" "$(elapsed "$t1" "$t2") s vs $(elapsed "$t0" "$t1") s" \
  'rc r6q 0 && says r6q ETA && within5 "$t1 - $t0" "$t2 - $t1"'
mkdir -p raytmp/ray && echo "127.0.0.1:9" > raytmp/ray/ray_current_cluster   # port 9 (discard): nobody listens
if "$PY" -c "import ray" 2>/dev/null; then
  t0=$(secs); run r6ray env TMPDIR="$PWD/raytmp" timeout 120 "$PY" -m studio batch run --db q.db --cluster auto --quiet; t1=$(secs)
  check R6e "a stale Ray session file: minutes of silence" "named in $(elapsed "$t0" "$t1") s" \
    'rc r6ray 1 && says r6ray "stale session" && within5 0 "$t1 - $t0"'
fi

# ---- R7: misleading messages and leftovers
long=$(printf 'n%.0s' $(seq 241))
run r7a st render "${W[@]}" --reference ../in/a.png --motion ../in/v.mp4 --out "r7/$long.mp4"
check R7a "a valid 245-byte name: 'cannot write into the output folder'" "written" 'rc r7a 0 && [ -f "r7/$long.mp4" ]'
run r7b st render "${W[@]}" --side-by-side --reference ../in/a.png --motion ../in/v.mp4 --out "r7/x$long.mp4"
check R7b "a long name with --side-by-side: traceback" "one line naming the too-long name" 'rc r7b 1 && one_line r7b && says r7b "bytes long"'
run r7c st render "${W[@]}" --reference ../in/a.png --motion ../in/v.mp4 --out "r7/{2026} shoots/take_{counter}.mp4"
check R7c "braces in an --out folder: 'not a valid template'" "the folder's own name" 'rc r7c 0 && [ -f "r7/{2026} shoots/take_1.mp4" ]'
"$PY" -c "
from PIL import Image; from studio.media.video_io import iter_frames, FrameSelection
frames = [Image.fromarray(f) for _, f in iter_frames('../in/v.mp4', FrameSelection(max_frames=12))]
frames[0].save('anim.webp', save_all=True, append_images=frames[1:], duration=83, loop=0)"
run r7d st render "${W[@]}" --reference ../in/a.png --motion anim.webp --out r7/webp.mp4
check R7d "an animated WebP read as one frame" "4 frames rendered" 'rc r7d 0 && [ "$(frames_in r7/webp.mp4)" = 4 ]'
"$FF" -v error -y -f lavfi -i "testsrc=size=8x8:rate=8" -t 1 -pix_fmt yuv420p tiny8.mp4
run r7e st render "${W[@]}" --reference ../in/a.png --motion tiny8.mp4 --out r7/t8.mp4
check R7e "an 8x8 video 'holds no frames'" "read (then: no person in it)" 'rc r7e 1 && ! says r7e "holds no frames" && says r7e "no person"'
for n in 1 2; do
  (st render "${W[@]}" --reference ../in/a.png --motion ../in/v.mp4 --out "r7c/take_{counter}.mp4" \
    >"$PROBE/r7f$n.out" 2>"$PROBE/r7f$n.err"; echo $? >"$PROBE/r7f$n.rc") &
done
wait
check R7f "two {counter} renders at once both picked 001" "take_1 and take_2" 'rc r7f1 0 && rc r7f2 0 && [ -f r7c/take_1.mp4 ] && [ -f r7c/take_2.mp4 ] && [ -z "$(ls -A r7c | grep partial)" ]'
for sig in KILL HUP; do
  mkdir -p "r7$sig"
  "$PY" -m studio render "${D[@]}" --steps 25 --width 192 --height 192 --reference ../in/a.png --motion ../in/v.mp4 \
    --out "r7$sig/o.mp4" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 240); do ls -A "r7$sig" | grep -q partial && break; sleep 0.5; done
  kill -"$sig" $pid; wait $pid 2>/dev/null
  ls -A "r7$sig" >"$PROBE/r7$sig.before"
  run "r7${sig}2" st render "${W[@]}" --reference ../in/a.png --motion ../in/v.mp4 --out "r7$sig/o.mp4"
done
check R7g "SIGKILL/SIGHUP: hidden .partial files never cleaned" "the next render of that output removes them" \
  'for s in KILL HUP; do grep -q partial $PROBE/r7$s.before && rc r7${s}2 0 && [ -z "$(ls -A r7$s | grep partial)" ] || exit 1; done'

cd "$PROBE" || exit 1
export STUDIO_HOME=$PROBE/home
