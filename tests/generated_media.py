"""Small test media generated on the fly from scikit-image's bundled astronaut photo (no downloads).

Shared by every test suite that needs a photo or a driving video. Everything is small (≤ 256 px, a handful of
frames) so it is fast to write and to decode. Coordinates follow the "pixel corner" convention used across
the studio: a point at the centre of pixel (i, j) has coordinates (j + 0.5, i + 0.5).

    astronaut()                          -> RGB uint8 [512, 512, 3] (Eileen Collins, upper body, face near x=225, y=115)
    write_image(path, image)             -> path (PNG/JPEG by suffix)
    write_astronaut_photo(path, size)    -> path, a square photo of the astronaut
    write_transform_video(path, ...)     -> (path, [2×3 matrices]) astronaut pixels -> frame pixels, one per frame
    write_rotated_phone_video(path, ...) -> (path, upright frames) a landscape-stored clip with a 90° display rotation
    write_personless_video(path, ...)    -> path, moving gradients, no person
    write_corrupt_video(path)            -> path, bytes that are not a video (.mp4 name)
    write_empty_file(path)               -> path, 0 bytes
    write_frame_folder(folder, frames)   -> folder of frame_i.png
"""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np

#: Face box of the astronaut in her 512×512 photo (x0, y0, x1, y1), measured with OpenCV's Haar cascade.
ASTRONAUT_FACE_BOX = (177.0, 66.0, 272.0, 161.0)


def astronaut() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


def write_image(path: str | Path, image: np.ndarray) -> Path:
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path)
    return path


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    import cv2

    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def write_astronaut_photo(path: str | Path, size: int = 256) -> Path:
    return write_image(path, _resize(astronaut(), size, size))


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def write_video(
    path: str | Path, frames: list[np.ndarray], fps: float = 8.0, audio: bool = False, extra_args: list[str] = ()
) -> Path:
    """Encode RGB frames as H.264 (yuv420p, crf 16), optionally with a 440 Hz sine audio track."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = frames[0].shape[:2]
    cmd = [
        _ffmpeg(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
        "-r", str(fps), "-i", "-",
    ]
    if audio:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={len(frames) / fps:.3f}"]
    codec = ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "16", "-preset", "veryfast"]
    if path.suffix.lower() == ".webm":
        codec = ["-c:v", "libvpx-vp9", "-pix_fmt", "yuv420p", "-b:v", "0", "-crf", "30", "-deadline", "realtime"]
    elif path.suffix.lower() == ".gif":
        codec = []
    cmd += codec
    if audio:
        cmd += ["-c:a", "aac" if path.suffix.lower() != ".webm" else "libopus", "-shortest"]
    cmd += [*extra_args, str(path)]
    data = b"".join(np.ascontiguousarray(f, dtype=np.uint8).tobytes() for f in frames)
    subprocess.run(cmd, input=data, check=True, capture_output=True)
    return path


def similarity(angle_deg: float, scale: float, tx: float, ty: float, center: tuple[float, float]) -> np.ndarray:
    """2×3 matrix: rotate by ``angle_deg`` (counter-clockwise on screen) and scale about ``center``, then shift."""
    a = math.radians(angle_deg)
    cos, sin = scale * math.cos(a), scale * math.sin(a)
    cx, cy = center
    # y points down, so a counter-clockwise on-screen rotation has +sin in the x row for y and -sin for x in y.
    m = np.array([[cos, sin, 0.0], [-sin, cos, 0.0]])
    m[:, 2] = np.array([cx, cy]) - m[:, :2] @ np.array([cx, cy]) + np.array([tx, ty])
    return m


def default_transforms(num_frames: int, size: int) -> list[tuple[float, float, float, float]]:
    """(angle°, scale, tx, ty) per frame: a gentle sway, zoom and drift (frame 0 is the identity)."""
    out = []
    for i in range(num_frames):
        t = i / max(1, num_frames - 1)
        out.append((12.0 * math.sin(2 * math.pi * t), 1.0 - 0.2 * t, 0.12 * size * t, 0.06 * size * math.sin(math.pi * t)))
    return out


def write_transform_video(
    path: str | Path,
    num_frames: int = 6,
    size: int = 256,
    fps: float = 8.0,
    audio: bool = False,
    transforms: list[tuple[float, float, float, float]] | None = None,
) -> tuple[Path, list[np.ndarray]]:
    """A ``size``×``size`` clip of the astronaut moved by a known similarity per frame.

    Returns the path and, per frame, the 2×3 matrix mapping *astronaut photo pixels (512 px)* to *frame
    pixels* (corner convention), so a keypoint p found in the photo should appear at ``M @ [p, 1]``.
    """
    import cv2

    photo = astronaut()
    base = size / photo.shape[1]
    matrices, frames = [], []
    for angle, scale, tx, ty in transforms or default_transforms(num_frames, size):
        motion = similarity(angle, scale, tx, ty, (size / 2, size / 2))
        full = motion @ np.array([[base, 0, 0], [0, base, 0], [0, 0, 1.0]])
        centred = full.copy()
        centred[:, 2] += 0.5 * (full[:, 0] + full[:, 1]) - 0.5
        frames.append(cv2.warpAffine(photo, centred, (size, size), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE))
        matrices.append(full)
    return write_video(path, frames, fps=fps, audio=audio), matrices


def write_rotated_phone_video(path: str | Path, num_frames: int = 3, fps: float = 8.0) -> tuple[Path, list[np.ndarray]]:
    """A portrait clip stored landscape with a 90° display rotation (as phones record), plus the upright frames."""
    upright = [_resize(astronaut(), 96, 160) for _ in range(num_frames)]
    for i, frame in enumerate(upright):
        frame[:8, :8] = 255 * (i % 2)  # a marker in the top-left corner to check orientation
    stored = [np.ascontiguousarray(np.rot90(f, k=1)) for f in upright]  # rotated 90° counter-clockwise
    path = Path(path)
    plain = path.with_name(path.stem + ".plain.mp4")
    write_video(plain, stored, fps=fps)
    # -display_rotation 90 tells players to turn the stored frame 90° clockwise back to upright... per ffmpeg:
    # the value is the counter-clockwise rotation to apply; -90 undoes our counter-clockwise rot90.
    subprocess.run(
        [_ffmpeg(), "-y", "-loglevel", "error", "-display_rotation", "-90", "-i", str(plain), "-c", "copy", str(path)],
        check=True, capture_output=True,
    )
    plain.unlink()
    return path, upright


def write_personless_video(path: str | Path, num_frames: int = 4, size: int = 128, fps: float = 8.0) -> Path:
    yy, xx = np.mgrid[0:size, 0:size]
    frames = []
    for i in range(num_frames):
        r = (xx * 2 + i * 9) % 256
        g = (yy * 2) % 256
        b = np.full_like(xx, 80 + 20 * i)
        frames.append(np.stack([r, g, b], -1).astype(np.uint8))
    return write_video(path, frames, fps=fps)


def write_corrupt_video(path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return path


def write_empty_file(path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def write_frame_folder(folder: str | Path, frames: list[np.ndarray]) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        write_image(folder / f"frame_{i}.png", frame)
    return folder


def cameraman() -> np.ndarray:
    """scikit-image's bundled cameraman (a man with a camera on a tripod), as RGB uint8 [512, 512, 3]."""
    from skimage import data

    return np.ascontiguousarray(np.repeat(data.camera()[..., None], 3, axis=2))


def _personless_scenes(size: int) -> list[np.ndarray]:
    """Backgrounds without anyone in them: flat colours and heavily blurred object photos (bundled)."""
    import cv2
    from skimage import data

    blurred = [cv2.GaussianBlur(_resize(np.ascontiguousarray(img), size, size), (0, 0), size / 40)
               for img in (data.coffee(), data.rocket()[:, :, :3], data.chelsea())]
    flat = [np.full((size, size, 3), colour, np.uint8) for colour in ((40, 40, 48), (200, 190, 170))]
    return flat + blurred


def write_montage_video(
    path: str | Path, size: int = 192, fps: float = 8.0, scene: int = 8, gap: int = 10,
) -> tuple[Path, list[str | None], list[np.ndarray | None]]:
    """A street-montage-like clip: person shots, hard scene cuts, and stretches without anyone.

    Shots in order: astronaut (moving), nobody (flat colour), nobody (blurred coffee cup, panning), the
    cameraman (moving), nobody (blurred rocket), a short 3-frame blank flash, the astronaut again.
    Returns the path and, per frame, who is in view ("astronaut", "cameraman") or None, and the 2×3 matrix
    from that person's 512 px photo to the frame (None without a person).
    """
    import cv2

    scenes = _personless_scenes(size)
    frames: list[np.ndarray] = []
    labels: list[str | None] = []
    matrices: list[np.ndarray | None] = []

    def person(photo: np.ndarray, name: str, count: int, phase: float) -> None:
        base = _resize(photo, size, size)
        to_base = np.array([[size / photo.shape[1], 0, 0], [0, size / photo.shape[0], 0], [0, 0, 1.0]])
        for i in range(count):
            t = phase + i / max(1, count)
            m = similarity(6.0 * math.sin(2 * math.pi * t), 0.9 + 0.05 * math.cos(2 * math.pi * t),
                           0.06 * size * math.sin(2 * math.pi * t), 0.0, (size / 2, size / 2))
            frames.append(cv2.warpAffine(base, m, (size, size), borderMode=cv2.BORDER_REPLICATE))
            labels.append(name)
            matrices.append(m @ to_base)

    def nobody(background: np.ndarray, count: int, pan: float) -> None:
        for i in range(count):
            m = np.array([[1.0, 0.0, pan * i], [0.0, 1.0, 0.0]])
            frames.append(cv2.warpAffine(background, m, (size, size), borderMode=cv2.BORDER_REFLECT))
            labels.append(None)
            matrices.append(None)

    person(astronaut(), "astronaut", scene, 0.0)
    nobody(scenes[0], gap, 0.0)
    nobody(scenes[2], gap, 2.0)
    person(cameraman(), "cameraman", scene, 0.3)
    nobody(scenes[3], gap, -2.0)
    person(astronaut(), "astronaut", scene, 0.6)
    nobody(scenes[1], 3, 0.0)
    person(astronaut(), "astronaut", scene, 0.1)
    nobody(scenes[4], gap, 1.5)
    return write_video(path, frames, fps=fps), labels, matrices


#: The cameraman's mouth centre, mouth width and chin in his 512 px photo (mediapipe face mesh, measured once).
CAMERAMAN_MOUTH = (241.6, 180.5)
CAMERAMAN_MOUTH_WIDTH = 12.6
CAMERAMAN_CHIN_Y = 194.0


def mouth_openings(num_frames: int, amplitude: float) -> list[float]:
    """How far the mouth is pulled open per frame (pixels of the clip): shut, open, shut, half-open, ..."""
    return [amplitude * (0.5 - 0.5 * math.cos(2 * math.pi * 1.3 * i / max(1, num_frames - 1))) *
            (1.0 if (i // 4) % 2 == 0 else 0.6) for i in range(num_frames)]


def write_talking_video(
    path: str | Path, num_frames: int = 10, size: int = 256, fps: float = 8.0, amplitude: float | None = None,
) -> tuple[Path, list[float]]:
    """A close-up of the cameraman whose mouth is warped open and shut frame by frame (a different face than
    the astronaut's, talking). Returns the path and the known opening per frame (pixels of the clip).

    The warp pushes everything below the lips down by the opening (fading out sideways and below the chin),
    so the lower lip drops and the gap between the lips widens by exactly that much.
    """
    import cv2

    crop = 128  # a 128 px square around the face, scaled up to ``size``
    x0, y0 = int(CAMERAMAN_MOUTH[0] - crop / 2), int(CAMERAMAN_MOUTH[1] - 0.65 * crop)
    base = _resize(cameraman()[y0 : y0 + crop, x0 : x0 + crop], size, size).astype(np.float32)
    k = size / crop
    mx, my = (CAMERAMAN_MOUTH[0] - x0) * k, (CAMERAMAN_MOUTH[1] - y0) * k
    chin = (CAMERAMAN_CHIN_Y - y0) * k
    amplitude = 0.4 * (chin - my) if amplitude is None else amplitude
    openings = mouth_openings(num_frames, amplitude)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    sideways = np.exp(-0.5 * ((xx - mx) / (1.2 * CAMERAMAN_MOUTH_WIDTH * k)) ** 2)
    below_chin = np.clip(1.0 - (yy - chin) / (0.6 * (chin - my)), 0.0, 1.0)
    frames = []
    for a in openings:
        ramp = np.clip((yy - my) / max(a, 1e-3), 0.0, 1.0) * below_chin
        shift = a * ramp * sideways
        frames.append(np.clip(cv2.remap(base, xx, yy - shift, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE),
                              0, 255).astype(np.uint8))
    return write_video(path, frames, fps=fps), openings


# ----------------------------------------------------------------------------------------------- a keyframed dance
#: Keyframes of the sample dance, one row per beat (cyclic): right/left upper arm angle from hanging straight
#: down (degrees, 90 = out to the side, 180 = straight up), right/left elbow bend (degrees), head roll
#: (degrees, + = towards the person's left shoulder), body sway (fraction of the width), mouth opening (0–1).
DANCE_KEYS = np.array([
    #  r_arm  l_arm  r_bend l_bend  roll   sway   mouth
    [20.0, 20.0, 10.0, 10.0, 0.0, 0.00, 0.0],
    [95.0, 40.0, 35.0, 20.0, 9.0, 0.03, 0.6],
    [150.0, 70.0, 25.0, 70.0, -5.0, 0.05, 0.0],
    [100.0, 145.0, 70.0, 30.0, -10.0, 0.00, 1.0],
    [40.0, 160.0, 15.0, 15.0, 6.0, -0.05, 0.2],
    [70.0, 95.0, 90.0, 85.0, 10.0, -0.03, 0.8],
    [165.0, 165.0, 20.0, 20.0, 0.0, 0.00, 0.0],
    [60.0, 100.0, 40.0, 60.0, -8.0, 0.03, 0.5],
])


def _catmull_rom(keys: np.ndarray, t: float) -> np.ndarray:
    """Cyclic Catmull-Rom spline through the rows of ``keys`` at position ``t`` (in keyframes)."""
    n = len(keys)
    i = int(math.floor(t)) % n
    u = t - math.floor(t)
    p0, p1, p2, p3 = keys[(i - 1) % n], keys[i], keys[(i + 1) % n], keys[(i + 2) % n]
    return 0.5 * (2 * p1 + (-p0 + p2) * u + (2 * p0 - 5 * p1 + 4 * p2 - p3) * u**2 + (-p0 + 3 * p1 - 3 * p2 + p3) * u**3)


def dance_poses(num_frames: int = 32, width: int = 320, height: int = 320):
    """A smooth dance of the head and arms on the astronaut's own skeleton and face (OpenPose-18 + face-68).

    Her pose in the photo (bundled, detected once) gives the proportions and the face shape; the arms swing
    by the keyframed angles with her arm lengths, the head rolls about the neck and the mouth opens and
    shuts, all splined through ``DANCE_KEYS``. Points are in ``width``×``height`` pixels; every drawn point
    has score 1 (nothing is guessed).
    """
    from studio.motion import detect_pose
    from studio.motion.head import head_from_face
    from studio.motion.types import PoseFrame

    photo = astronaut()
    base = detect_pose(photo)
    # her half-length portrait shrunk so that arms raised or spread stay inside the frame, neck at 45 % height
    size = 0.5 * min(width, height) / photo.shape[1]
    place = np.array([0.5 * width, 0.45 * height]) - base.body[1, :2] * size
    body = base.body[:, :2] * size + place
    face = base.face[:, :2] * size + place
    neck = body[1].copy()
    upper = float(np.linalg.norm(body[3] - body[2]))  # her right upper arm (the left one is hidden)
    lower = 0.85 * upper
    poses = []
    for frame in range(num_frames):
        r_arm, l_arm, r_bend, l_bend, roll, sway, mouth = _catmull_rom(DANCE_KEYS, frame * len(DANCE_KEYS) / num_frames)
        shift = np.array([sway * width, -abs(sway) * 0.5 * height])
        pose = PoseFrame()
        pose.body[1, :2] = neck + shift
        # hips (the photo ends above them): under the shoulders, a torso of 1.5 shoulder widths, swaying half as much
        shoulders = float(np.linalg.norm(body[5] - body[2]))
        for hip, side in ((8, -1.0), (11, 1.0)):
            pose.body[hip] = (neck[0] + 0.5 * shift[0] + side * 0.35 * shoulders, neck[1] + 1.5 * shoulders, 1.0)
        for shoulder, elbow, wrist, arm, bend, side in ((2, 3, 4, r_arm, r_bend, -1.0), (5, 6, 7, l_arm, l_bend, 1.0)):
            s = body[shoulder] + shift
            a, b = math.radians(arm), math.radians(arm + bend)
            e = s + upper * np.array([side * math.sin(a), math.cos(a)])
            w = e + lower * np.array([side * math.sin(b), math.cos(b)])
            pose.body[[shoulder, elbow, wrist], :2] = [s, e, w]
        # the face rolls about the neck; the lower lip and chin drop with the mouth opening
        f = face.copy()
        drop = mouth * 0.35 * float(np.linalg.norm(f[66] - f[57]) + 0.04 * height)
        f[[5, 6, 7, 8, 9, 10, 11, 55, 56, 57, 58, 59, 65, 66, 67]] += [0.0, drop]
        angle = math.radians(roll)
        rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
        pose.face[:, :2] = (f - neck) @ rotation.T + neck + shift
        pose.face[:, 2] = 1.0
        pose.body[[1, 2, 3, 4, 5, 6, 7, 0, 14, 15, 16, 17], 2] = 1.0
        poses.append(head_from_face(pose))
    return poses
