"""Know before you render: the peak memory a diffusion render needs on a device and dtype, and settings that fit.

peak = weights resident on the device
     + the denoising state (latents, conditioning latents, pose latents of every frame)
     + the largest working set of one phase: PoseNet over all frames, one UNet call (tile × CFG batch), one VAE
       decode chunk, one HJB step (decode chunk with gradients + iresnet100), the conditioning encode
     + allocator slack.

The working sets are not guessed per layer: each phase is run once on the meta device at the request's exact shapes
(``pipelines.memory_trace``), which counts every tensor the eager code allocates and frees, with the fused attention
kernels' output-only footprint. Traces are memoised per shape; the released-size UNet takes seconds to trace, the
tiny test models milliseconds. Qt-free; ``ui`` shows :meth:`MemoryEstimate.summary` beside the Render button.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.errors import StudioError

GB = 1e9
DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2}
OFFLOADS = ("none", "model", "sequential")
#: Slack on top of the traced tensors, as a fraction of the activations. CPU: oneDNN convolutions reorder their
#: input/output into blocked layouts and keep scratch buffers that are not tensors; with glibc's mmap threshold fixed
#: (so RSS follows live memory) measured RSS peaks exceed the traced peak by 3–12 % (tests/studio/test_memory.py),
#: so 12 %. glibc's default *dynamic* threshold keeps freed blocks of up to 32 MiB in its heap, which adds up to
#: ~35 % more on small models. Released size at 512² (bench/real_size.py), prediction / measured RSS peak with glibc's
#: defaults: batched-CFG UNet call 0.63–0.82 / 0.72 / 0.96 (1 / 2 / 4 frames), two-call 0.44–0.45 / 0.53 / 0.65, VAE
#: decode 1.07, PoseNet 0.77, HJB fast 0.89, exact 1.08; with MALLOC_MMAP_THRESHOLD_=131072 (RSS = live memory)
#: the UNet rows are 1.07 / 1.09 (batched, 1 / 2 frames) and 0.94 / 1.09 (two-call, 1 / 4 frames): the model holds
#: for live memory, and glibc's default keeps 0.1–0.35 GB of freed heap on top in small calls. (The fixed threshold
#: lowers the peak that much but costs 10–16 % time per call on this CPU, so the studio leaves glibc's default.)
#: CUDA: the caching allocator rounds blocks up (2 MiB segments for large ones) and fragments: 15 %.
ALLOCATOR_SLACK = {"cpu": 0.12, "cuda": 0.15, "mps": 0.15}
#: The process itself on the CPU, before any weights: Python, torch, diffusers, transformers, mediapipe, onnxruntime
#: and the pose/face models a render loads. A render of the tiny fixture (weights and activations ~0.15 GB) peaks at
#: 1.04 GB RSS (bench/release_run.py on the tiny checkpoints), so ~0.85 GB (0.89 measured; the rest is the tiny
#: model's share). Without it the released-size predictions were 0.78-0.93 of the measured peaks. On a GPU the
#: process's own memory is host memory, not the device's, so it does not count there.
RUNTIME_BYTES = {"cpu": int(0.85 * GB)}
#: HJB fast mode decodes a latent window around the faces; without the boxes at hand the model assumes a face box
#: side of this fraction of the shorter frame side (a half-body shot) plus the fast margin.
HJB_FACE_FRACTION = 0.35
#: The face embedder's input size (iresnet100 crops).
FACE_CROP = 112


@dataclass(frozen=True)
class MemoryRequest:
    """What the memory of a render depends on (a subset of ``RenderRequest`` plus the resolved device/dtype)."""

    width: int
    height: int
    frames: int
    tile_size: int = 16
    decode_chunk: int = 4
    batched_cfg: bool = True
    hjb: str | None = None  # None, "fast" or "exact"
    device: str = "cpu"
    dtype: str = "fp32"
    offload: str = "none"  # "none", "model" (whole models moved in turn), "sequential" (layer by layer)

    @property
    def tile(self) -> int:
        return min(self.tile_size, self.frames)


@dataclass
class MemoryEstimate:
    request: MemoryRequest
    weights: int
    state: int
    phases: dict[str, int]
    slack: int
    #: Above the weights while loading them (``pipelines.weights_in_place``: a tensor at the file's dtype on the CPU
    #: is the file's mapped pages, a cast one is read through a staging buffer of the largest tensor's file bytes;
    #: never a checkpoint beside a built module).
    load: int = 0
    #: The process before any weights (libraries and small models; :data:`RUNTIME_BYTES`).
    runtime: int = 0

    @property
    def activations(self) -> int:
        """Everything above the weights while denoising and decoding."""
        return self.state + max(self.phases.values()) + self.slack

    @property
    def load_peak(self) -> int:
        return self.runtime + self.weights + self.load

    @property
    def total(self) -> int:
        """The render's peak: loading or rendering, whichever needs more."""
        return self.runtime + self.weights + max(self.load, self.activations)

    @property
    def largest_phase(self) -> str:
        return max(self.phases, key=lambda name: self.phases[name])

    def summary(self, available: int | None = None) -> str:
        r = self.request
        text = f"needs ≈ {self.total / GB:.1f} GB on {r.device} {r.dtype}"
        if available is not None:
            text += f"; this {'GPU' if r.device == 'cuda' else 'machine'} has {available / GB:.0f} GB"
        return text

    def breakdown(self) -> str:
        parts = ", ".join(f"{name} {size / GB:.2f}" for name, size in self.phases.items())
        return (f"runtime {self.runtime / GB:.2f} GB + weights {self.weights / GB:.2f} GB + state {self.state / GB:.2f} GB + largest phase "
                f"({self.largest_phase}) + slack {self.slack / GB:.2f} GB; phases (GB): {parts}; loading peaks at "
                f"{self.load_peak / GB:.2f} GB")

    def as_dict(self) -> dict[str, Any]:
        """The estimate in bytes, for ``render --dry-run --json``."""
        r = self.request
        return {
            "total_bytes": self.total, "load_peak_bytes": self.load_peak,
            "render_peak_bytes": self.runtime + self.weights + self.activations, "runtime_bytes": self.runtime,
            "weights_bytes": self.weights,
            "state_bytes": self.state, "slack_bytes": self.slack, "load_bytes": self.load,
            "largest_phase": self.largest_phase, "phases_bytes": dict(self.phases),
            "request": dataclasses.asdict(r),
        }


@dataclass
class MemoryPlan:
    """Settings chosen to fit ``budget``: the request to render, its estimate and what was changed (in words)."""

    request: MemoryRequest
    estimate: MemoryEstimate
    budget: int
    choices: list[str] = field(default_factory=list)

    @property
    def fits(self) -> bool:
        return self.estimate.total <= self.budget


class MemoryModel:
    """Peak-memory predictions for one set of model sizes (modules built on the meta device)."""

    def __init__(self, modules: dict[str, Any]):
        self.modules = modules
        self._traces: dict[tuple, int] = {}

    # ------------------------------------------------------------------ construction
    @classmethod
    def released(cls) -> MemoryModel:
        """The released model's sizes (SVD-xt + StableAnimator + iresnet100)."""
        return cls(_released_modules())

    @classmethod
    def for_folder(cls, models_dir: str | Path) -> MemoryModel:
        """Sizes from a weights folder's config files (only JSON is read; the Animation modules' widths follow
        the UNet's, as in every released checkpoint)."""
        from pipelines.layout import find_svd_dir

        svd = find_svd_dir(models_dir)
        if svd is None:
            return cls.released()
        configs = {}
        for sub, name in (("unet", "config.json"), ("vae", "config.json"), ("image_encoder", "config.json")):
            path = svd / sub / name
            if not path.is_file():
                return cls.released()
            configs[sub] = path.read_text()
        return cls(_modules_from_configs(configs["unet"], configs["vae"], configs["image_encoder"]))

    @classmethod
    def for_pipeline(cls, pipe) -> MemoryModel:
        """Meta copies of a loaded pipeline's modules (same configs, no memory)."""
        from pipelines.real_size import build_on_meta

        modules = {}
        for name, module in pipe.components.items():
            if module is None or not hasattr(module, "parameters"):
                continue
            config = module.config
            if hasattr(type(module), "from_config"):
                modules[name] = build_on_meta(lambda m=module: type(m).from_config(m.config))
            else:  # transformers models take their config object
                modules[name] = build_on_meta(lambda m=module, c=config: type(m)(c))
        return cls(modules)

    # ------------------------------------------------------------------ estimate
    def weight_bytes(self, request: MemoryRequest) -> int:
        import torch

        from pipelines.real_size import parameter_bytes

        dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[request.dtype]
        sizes = {name: parameter_bytes(m, dtype) for name, m in self.modules.items() if name != "face_embedder"}
        embedder = self.modules.get("face_embedder")
        if request.hjb and embedder is not None:
            sizes["face_embedder"] = parameter_bytes(embedder, torch.float32)  # HJB runs the embedder in fp32
        if request.device != "cuda" or request.offload == "none":
            return sum(sizes.values())
        if request.offload == "model":
            return max(sizes.values())
        return self._largest_leaf(dtype)

    def estimate(self, request: MemoryRequest) -> MemoryEstimate:
        r = request
        b = DTYPE_BYTES[r.dtype]
        h, w = r.height // 8, r.width // 8
        c0 = self.modules["unet"].config.block_out_channels[0]
        # latents, 2× conditioning latents, 2× model input (8 ch), 2× noise_pred, guidance temporaries, pose latents
        state = r.frames * h * w * b * (4 + 8 + 16 + 8 + 12 + c0)
        phases = {
            "encode": self._encode_peak(r),
            "pose": self._trace("pose", r.frames, r.height, r.width, r.dtype),
            "unet": self._trace("unet", 2 if r.batched_cfg else 1, r.tile, h, w, r.dtype),
            "decode": self._trace("decode", min(r.decode_chunk, r.frames), h, w, r.dtype)
            + 2 * min(r.decode_chunk, r.frames) * 3 * r.height * r.width * 4,  # float copy + [0,1] frames
        }
        if r.hjb:
            phases["hjb"] = self._hjb_peak(r)
        slack = int(ALLOCATOR_SLACK.get(r.device, 0.15) * (state + max(phases.values())))
        return MemoryEstimate(r, self.weight_bytes(r), state, phases, slack, load=self._load_extra(r),
                              runtime=RUNTIME_BYTES.get(r.device, 0))

    def _load_extra(self, request: MemoryRequest) -> int:
        """Bytes above the weights while loading: the staging buffer a cast (or a move to the GPU) reads each tensor
        through, as large as the largest tensor in the files (fp32, as released); fp32 on the CPU uses the files' pages."""
        if request.dtype == "fp32" and request.device == "cpu":
            return 0
        if request.device != "cpu" and request.offload != "none":
            return 0  # offloaded: loaded to the CPU, the GPU sees one model at a time (counted in the weights)
        largest = max(p.numel() for name, m in self.modules.items() if name != "face_embedder"
                      for p in m.parameters())
        return largest * 4

    def plan(self, request: MemoryRequest, budget: int) -> MemoryPlan:
        """The first of: as asked → two-call CFG → halved decode chunks → model offload → sequential offload (the
        last two on CUDA) whose estimate fits ``budget``; otherwise the most frugal, with ``fits`` False. Tile size,
        steps and the size are never changed."""
        choices: list[str] = []
        current = request
        estimate = self.estimate(current)
        if estimate.total <= budget:
            return MemoryPlan(current, estimate, budget, choices)
        steps: list[tuple[dict[str, Any], str]] = []
        if current.batched_cfg:
            steps.append(({"batched_cfg": False}, "two UNet calls per tile for guidance instead of one batch-2 call "
                                                  "(same result, slower)"))
        chunk = current.decode_chunk
        while chunk > 1:
            chunk = max(1, chunk // 2)
            steps.append(({"decode_chunk": chunk}, f"decode chunk {chunk} frames (the VAE's temporal decoder sees "
                                                   "fewer frames at once; output changes slightly)"))
        if current.device == "cuda":
            steps.append(({"offload": "model"}, "model CPU offload (each model moved to the GPU only while it runs)"))
            steps.append(({"offload": "sequential"}, "sequential CPU offload (layer by layer; much slower)"))
        for change, words in steps:
            current = dataclasses.replace(current, **change)
            choices = [c for c in choices if not (c.startswith("decode chunk") and "decode_chunk" in change)]
            choices.append(words)
            estimate = self.estimate(current)
            if estimate.total <= budget:
                break
        return MemoryPlan(current, estimate, budget, choices)

    # ------------------------------------------------------------------ traced phases
    def _trace(self, phase: str, *shape) -> int:
        key = (phase, *shape)
        if key not in self._traces:
            self._traces[key] = getattr(self, f"_run_{phase}")(*shape)
        return self._traces[key]

    def _inputs(self, dtype: str, *shapes):
        import torch

        torch_dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[dtype]
        with torch.device("meta"):
            return [torch.empty(s, dtype=torch_dtype) for s in shapes]

    def _cast(self, name: str, dtype: str):
        import torch

        torch_dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[dtype]
        return torch.nn.Module.to(self.modules[name], torch_dtype)  # ModelMixin.to warns needlessly

    def _run_unet(self, batch: int, tile: int, h: int, w: int, dtype: str) -> int:
        import torch

        from pipelines.memory_trace import module_tensors, traced_peak_bytes

        unet = self._cast("unet", dtype)
        cfg = unet.config
        tokens = 1 + getattr(cfg, "num_face_tokens", 4)
        latents, states, ids, timestep, pose_all = self._inputs(
            dtype, (batch, tile, 2 * cfg.out_channels, h, w), (batch, tokens, cfg.cross_attention_dim),
            (batch, 3), (), (tile, cfg.block_out_channels[0], h, w))

        def call():
            # The pipeline's per-tile copies: the tile's frames of the model input and of the pose latents.
            sample = latents.clone()
            poses = torch.cat([torch.zeros_like(pose_all), pose_all]) if batch == 2 else pose_all.clone()
            return unet(sample, timestep, states, ids, pose_latents=poses, return_dict=False)[0]

        with torch.no_grad():
            return traced_peak_bytes(call, [*module_tensors(unet), latents, states, ids, timestep, pose_all])

    def _run_decode(self, chunk: int, h: int, w: int, dtype: str) -> int:
        import torch

        from pipelines.memory_trace import module_tensors, traced_peak_bytes

        vae = self._cast("vae", dtype)
        (latents,) = self._inputs(dtype, (chunk, vae.config.latent_channels, h, w))
        with torch.no_grad():
            return traced_peak_bytes(lambda: vae.decode(latents, num_frames=chunk).sample,
                                     [*module_tensors(vae), latents])

    def _run_pose(self, frames: int, height: int, width: int, dtype: str) -> int:
        import torch

        from pipelines.memory_trace import module_tensors, traced_peak_bytes

        pose_net = self._cast("pose_net", dtype)
        # The pose pixels are built in fp32 and cast (both alive), then PoseNet runs over every frame at once.
        (pixels,) = self._inputs("fp32", (frames, 3, height, width))
        with torch.no_grad():
            return pixels.nbytes + traced_peak_bytes(lambda: pose_net(pixels.to(pose_net.dtype)),
                                                     [*module_tensors(pose_net), pixels])

    def _encode_peak(self, r: MemoryRequest) -> int:
        """The conditioning-image VAE encode; with fp16/bf16 and ``force_upcast`` the VAE is held in fp32 for it."""
        vae = self.modules["vae"]
        extra = 0
        if r.dtype != "fp32" and vae.config.force_upcast:
            from pipelines.real_size import parameter_bytes

            extra = parameter_bytes(vae) // 4 * (4 - DTYPE_BYTES[r.dtype])
            dtype = "fp32"
        else:
            dtype = r.dtype
        return extra + self._trace("encode", r.height, r.width, dtype)

    def _run_encode(self, height: int, width: int, dtype: str) -> int:
        import torch

        from pipelines.memory_trace import module_tensors, traced_peak_bytes

        vae = self._cast("vae", dtype)
        (pixels,) = self._inputs(dtype, (1, 3, height, width))
        with torch.no_grad():
            return traced_peak_bytes(lambda: vae.encode(pixels).latent_dist.mode(), [*module_tensors(vae), pixels])

    def _hjb_peak(self, r: MemoryRequest) -> int:
        h, w = r.height // 8, r.width // 8
        chunk = min(r.decode_chunk, r.frames)
        if r.hjb == "fast":
            from pipelines.hjb import DEFAULT_FAST_MARGIN

            side = int(HJB_FACE_FRACTION * min(r.height, r.width) / 8) + 2 * DEFAULT_FAST_MARGIN
            h, w = min(h, side), min(w, side)
        # fp32 copy of x0, its gradient and Adam's two moments, for every frame
        optimiser = 4 * r.frames * 4 * (r.height // 8) * (r.width // 8) * 4
        return optimiser + self._trace("hjb_step", chunk, h, w, r.dtype)

    def _run_hjb_step(self, chunk: int, h: int, w: int, dtype: str) -> int:
        import torch
        import torch.nn.functional as F

        from pipelines.memory_trace import module_tensors, traced_peak_bytes

        vae = self._cast("vae", dtype)
        embedder = self._cast("face_embedder", "fp32")
        (latents,) = self._inputs("fp32", (chunk, vae.config.latent_channels, h, w))

        def step():
            part = latents.detach().requires_grad_(True)
            with torch.enable_grad():
                pixels = vae.decode(part.to(vae.dtype), num_frames=chunk).sample.float()
                crops = F.interpolate(pixels, size=(FACE_CROP, FACE_CROP), mode="bilinear", align_corners=False)
                embedder(crops).sum().backward()
            return part.grad

        return traced_peak_bytes(step, [*module_tensors(vae, embedder), latents])

    def _largest_leaf(self, dtype) -> int:
        from pipelines.real_size import parameter_bytes

        return max(parameter_bytes(m, dtype) for module in self.modules.values() for m in module.modules()
                   if not list(m.children()))


@functools.lru_cache(maxsize=1)
def _released_modules() -> dict[str, Any]:
    from pipelines.real_size import real_modules_on_meta

    return real_modules_on_meta()


@functools.lru_cache(maxsize=4)
def _modules_from_configs(unet_json: str, vae_json: str, clip_json: str) -> dict[str, Any]:
    from diffusers import AutoencoderKLTemporalDecoder
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    from pipelines.face_embedder import IResNetFaceEmbedder
    from pipelines.face_encoder import FusionFaceId
    from pipelines.pose_net import PoseNet
    from pipelines.real_size import build_on_meta
    from pipelines.unet import StableAnimatorUNet

    unet_cfg, vae_cfg, clip_cfg = json.loads(unet_json), json.loads(vae_json), json.loads(clip_json)
    clip_cfg = {k: v for k, v in clip_cfg.items() if not k.startswith("_")}
    clip = build_on_meta(lambda: CLIPVisionModelWithProjection(CLIPVisionConfig(**clip_cfg)))
    unet = build_on_meta(lambda: StableAnimatorUNet.from_config(unet_cfg))
    return {
        "unet": unet,
        "vae": build_on_meta(lambda: AutoencoderKLTemporalDecoder.from_config(vae_cfg)),
        "image_encoder": clip,
        "pose_net": build_on_meta(lambda: PoseNet(noise_latent_channels=unet.config.block_out_channels[0])),  # type: ignore[union-attr, index]  # diffusers: ConfigMixin.config is typed through Module.__getattr__
        "face_encoder": build_on_meta(lambda: FusionFaceId(
            cross_attention_dim=unet.config.cross_attention_dim, id_embeddings_dim=512,  # type: ignore[union-attr]  # (as above)
            clip_embeddings_dim=clip.config.projection_dim, num_tokens=4)),  # type: ignore[union-attr]  # (as above)
        "face_embedder": build_on_meta(IResNetFaceEmbedder),
    }


def device_memory(device: str) -> int | None:
    """Free memory on ``device`` in bytes (CUDA: what the driver reports free; CPU: MemAvailable), or None."""
    if device == "cuda":
        import torch

        free, _total = torch.cuda.mem_get_info()
        return int(free)
    if device == "cpu":
        try:
            for line in Path("/proc/meminfo").read_text().splitlines():
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            return None
    return None


def memory_request(request, frames: int, device: str, dtype: str) -> MemoryRequest:
    """The :class:`MemoryRequest` of a ``studio.request.render_request.RenderRequest`` rendered on ``device``/``dtype``."""
    return MemoryRequest(
        width=request.width, height=request.height, frames=frames, tile_size=request.tile_size,
        decode_chunk=request.decode_chunk, hjb=request.hjb.decode_mode if request.hjb.enabled else None,
        device=device, dtype=dtype, offload="model" if request.cpu_offload and device == "cuda" else "none",
    )


# The device policy (which device and dtype "auto" means here): the engine loads on it, the estimate sizes for it.
def pick_device(requested: str = "auto") -> str:
    import torch

    if requested != "auto":
        if requested == "cuda" and not torch.cuda.is_available():
            raise StudioError("device 'cuda' was requested but no CUDA GPU is available; use --device cpu or auto")
        if requested == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise StudioError("device 'mps' was requested but Apple MPS is not available; use --device cpu or auto")
        return requested
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(requested: str, device: str):
    import torch

    table = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
    if requested != "auto":
        return table[requested]
    if device == "cuda":
        major, _minor = torch.cuda.get_device_capability()
        return torch.bfloat16 if major >= 8 else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32


def settings_summary(models: str | None, width: int, height: int, frames: int, tile_size: int, decode_chunk: int,
                     hjb_mode: str | None, device: str, dtype: str, cpu_offload: bool) -> str:
    """One line for the window: the prediction for these settings on the resolved device and dtype, and what the
    device has ("needs ≈ 9.8 GB on cuda bf16; this GPU has 24 GB")."""
    dev = pick_device(device)
    name = {"torch.float32": "fp32", "torch.float16": "fp16", "torch.bfloat16": "bf16"}[str(pick_dtype(dtype, dev))]
    model = MemoryModel.for_folder(models) if models and Path(models).is_dir() else MemoryModel.released()
    request = MemoryRequest(width, height, frames, tile_size, decode_chunk, hjb=hjb_mode, device=dev, dtype=name,
                            offload="model" if cpu_offload and dev == "cuda" else "none")
    return model.estimate(request).summary(device_memory(dev))


def request_memory_line(request) -> str:
    """The window's one line for a ``RenderRequest``: the predicted peak of its first tile of frames (the whole
    clip when it is shorter) and, when it interpolates, how many of them are rendered. Imports and traces the
    model code (seconds for the released size): call it off the GUI thread."""
    from studio.interpolation.cost import request_fill
    from studio.render.engine import HEAVY_IMPORT_LOCK

    with HEAVY_IMPORT_LOCK:  # the model libraries are imported by one thread at a time (see engine.py)
        import diffusers  # noqa: F401
        import transformers  # noqa: F401

        import pipelines.hjb_pipeline  # noqa: F401
        import pipelines.loading  # noqa: F401
        import pipelines.memory_trace  # noqa: F401
        import pipelines.real_size  # noqa: F401
    r = request
    frames = r.max_frames or r.tile_size
    text = settings_summary(r.models, r.width, r.height, frames, r.tile_size, r.decode_chunk,
                            r.hjb.decode_mode if r.hjb.enabled else None, r.device, r.dtype, r.cpu_offload)
    text += f" (for {frames} frames)"
    # the engine renders every N-th driving frame (and the last; the adaptive rule may add a few), the interpolator
    # fills the rest and any output frames between them (an output rate above the motion's)
    fill = request_fill(r)
    if fill is not None:
        text += f"; of {fill.driving_frames} driving frames it {fill.text()}"
    return text
