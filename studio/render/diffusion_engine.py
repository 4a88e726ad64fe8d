"""The ``diffusion`` engine: StableAnimator through ``pipelines.StableAnimatorPipeline``.

The pipeline is loaded once (``pipelines.loading.load_stable_animator_pipeline``) and kept while the
weights folder, device, dtype and offload setting stay the same. Denoising runs to latents only; the VAE
then decodes ``decode_chunk`` frames at a time and each decoded frame is yielded at once, so the frames
stream into the encoder and memory does not grow with clip length. An out-of-memory error during decode
retries the chunk with half the size. Cancel is checked after every UNet call (the callback raises), so
no decode or export runs after a cancel.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from studio.errors import InputError, ModelFolderError, StudioError
from studio.render.engine import HEAVY_IMPORT_LOCK, RenderInputs
from studio.render.memory import pick_device, pick_dtype
from studio.render.stage_clock import StageClock
from studio.system.platform import current_rss_bytes, peak_rss_bytes
from studio.system.progress import CancelToken, Progress, ProgressCallback

if TYPE_CHECKING:  # (torch and diffusers load only when a diffusion render starts)
    from pipelines.hjb_pipeline import StableAnimatorHJBPipeline
    from pipelines.pipeline_stable_animator import StableAnimatorPipeline

log = logging.getLogger(__name__)

#: Linear latent → RGB approximation of the SD/SVD VAE (4 latent channels), for the cheap live preview.
LATENT_RGB = np.array(
    [[0.298, 0.207, 0.208], [0.187, 0.286, 0.173], [-0.158, 0.189, 0.264], [-0.184, -0.271, -0.473]],
    dtype=np.float32,
)


def latent_preview(latents, frame: int) -> np.ndarray:
    """Cheap RGB approximation of one frame of ``[1, F, 4, h, w]`` latents, upscaled ×8, uint8."""
    lat = latents[0, frame].detach().float().cpu().numpy()  # [4, h, w]
    rgb = np.einsum("chw,cd->hwd", lat, LATENT_RGB)
    rgb = np.clip((rgb + 1.0) * 127.5, 0, 255).astype(np.uint8)
    return np.repeat(np.repeat(rgb, 8, axis=0), 8, axis=1)


def _is_oom(error: BaseException) -> bool:
    import torch

    return isinstance(error, torch.OutOfMemoryError) or "out of memory" in str(error).lower()


class DiffusionEngine:
    name = "diffusion"

    def __init__(self) -> None:
        self._pipe: StableAnimatorPipeline | None = None
        self._hjb_pipe: StableAnimatorHJBPipeline | None = None  # built from self._pipe's modules on the first HJB render
        self._key: tuple | None = None
        self.loads = 0  # how many times a pipeline was built (tests check reuse)
        # One pipeline, one render at a time: a quick preview and a queue job share the loaded modules (and the
        # scheduler's step state), so the second waits for the first instead of interleaving UNet calls.
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ loading
    def pipeline(self, models: str, device: str = "auto", dtype: str = "auto", cpu_offload: bool | str = False,
                 hjb: bool = False):
        """The loaded pipeline for these weights/device/dtype/offload (loaded once and kept). With ``hjb`` the HJB
        pipeline, built from the same modules plus the face embedder: toggling HJB never loads the weights again.
        ``cpu_offload``: False/"none", True/"model" (whole models in turn) or "sequential" (layer by layer)."""
        from pipelines.loading import CheckpointError, load_stable_animator_pipeline, weight_files
        from pipelines.weights_in_place import weight_files_signature
        from studio.render.model_folder import resolve_folder

        folder = resolve_folder(models)
        dev = pick_device(device)
        torch_dtype = pick_dtype(dtype, dev)
        offload = ("model" if cpu_offload else "none") if isinstance(cpu_offload, bool) else cpu_offload or "none"
        if offload != "none" and dev != "cuda":
            log.warning("CPU offload only applies to CUDA; rendering on %s without it", dev)
            offload = "none"
        # The files' identities too: on the CPU the loaded parameters are the files' memory maps, so a weight file
        # replaced or rewritten since means loading again, never rendering with a stale (or changing) map.
        files = weight_files_signature(weight_files(folder))
        key = (str(folder.resolve()), dev, str(torch_dtype), offload, files)
        if self._pipe is None or self._key != key:
            self._pipe = self._hjb_pipe = None  # free the old one before loading another
            # The studio reports its own "load" phase; the libraries' per-file weight bars would only add noise.
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
            try:
                pipe = load_stable_animator_pipeline(folder, device="cpu" if offload != "none" else dev,
                                                     dtype=torch_dtype)
            except CheckpointError as error:
                raise ModelFolderError(str(error)) from None
            pipe.set_progress_bar_config(disable=True)
            self._pipe, self._key = pipe, key
            self._offload(pipe, offload)
            self.loads += 1
        if not hjb:
            self._offload(self._pipe, offload)
            return self._pipe
        if self._hjb_pipe is None:
            from pipelines.hjb_pipeline import hjb_pipeline_from, load_face_embedder

            try:
                embedder = load_face_embedder(folder, device=dev)
            except CheckpointError as error:
                raise ModelFolderError(str(error)) from None
            self._hjb_pipe = hjb_pipeline_from(self._pipe, embedder)
        self._offload(self._hjb_pipe, offload)
        return self._hjb_pipe

    def _offload(self, pipe, offload: str) -> None:
        """(Re)install the offload hooks on the pipeline about to run: the basic and HJB pipelines share modules,
        and each pipeline's ``enable_*_offload`` replaces the hooks on them."""
        if offload == "none" or getattr(self, "_hooked", None) is pipe:
            return
        if offload == "model":
            pipe.enable_model_cpu_offload()
        else:
            pipe.enable_sequential_cpu_offload()
        self._hooked = pipe

    # ------------------------------------------------------------------ render
    def render(self, inputs: RenderInputs, report: ProgressCallback, cancel: CancelToken) -> Iterator[np.ndarray]:
        with self._lock:  # released when the generator finishes or is closed
            yield from self._render(inputs, report, cancel)

    def memory_plan(self, inputs: RenderInputs):
        """Settings that fit the memory budget (``request.max_memory`` GB, else on CUDA the free GPU memory), or
        None when no budget applies (CPU/MPS without ``max_memory``)."""
        from studio.render.memory import GB, MemoryModel, device_memory, memory_request

        req = inputs.request
        dev = pick_device(req.device)
        max_memory = getattr(req, "max_memory", None)
        if max_memory is None and dev != "cuda":
            return None
        if max_memory is not None:
            budget = int(max_memory * GB)
        else:
            import torch

            budget = (device_memory("cuda") or 0) + torch.cuda.memory_allocated()  # our own tensors are reusable
        dtype = {"torch.float32": "fp32", "torch.float16": "fp16", "torch.bfloat16": "bf16"}[str(pick_dtype(req.dtype, dev))]
        assert req.models is not None  # (a diffusion request without a weights folder fails its check)
        model = MemoryModel.for_folder(req.models)
        return model.plan(memory_request(req, inputs.num_frames, dev, dtype), budget)

    def _render(self, inputs: RenderInputs, report: ProgressCallback, cancel: CancelToken) -> Iterator[np.ndarray]:
        importing = time.perf_counter()
        with HEAVY_IMPORT_LOCK:  # all model code imported before use, never racing another thread's import
            import torch

            import pipelines.hjb_pipeline  # noqa: F401
            import pipelines.loading  # noqa: F401
        # (the window imports these at start-up, ui/warm_up.py; a CLI render started them when it began, while it
        # prepared the photo and poses: studio/render/model_imports.py; this waits for what is left)
        log.info("model code imported in %.2f s", time.perf_counter() - importing)

        req = inputs.request
        if not req.models:
            raise ModelFolderError("the diffusion engine needs a weights folder (--models DIR)")
        report(Progress("load", 0, 1, "loading the model"))
        started = time.perf_counter()
        plan = self.memory_plan(inputs)
        batched_cfg, decode_chunk, offload = True, req.decode_chunk, req.cpu_offload
        if plan is not None:
            batched_cfg, decode_chunk = plan.request.batched_cfg, plan.request.decode_chunk
            offload = plan.request.offload
            self._say(inputs, report, plan)
        resident_before = current_rss_bytes()
        pipe = self.pipeline(req.models, req.device, req.dtype, offload, hjb=req.hjb.enabled)
        # (the UNet's dtype: a pipeline's own .dtype is its first module's, the fp32 face embedder of the HJB one)
        log.info("memory settings: device %s, dtype %s, offload %s, tile %d/%d frames, decode chunk %d, %s CFG",
                 getattr(pipe, "device", "?"), getattr(getattr(pipe, "unet", pipe), "dtype", "?"), offload, req.tile_size,
                 req.tile_overlap, decode_chunk, "batched" if batched_cfg else "two-call")
        # "model ready", "first denoising step began" (StageClock) and "first UNet call done": how long a person
        # waits before denoising, and the load's peak memory (bench/release_run.py reads these lines)
        log.info("model ready %.2f s after the render's load phase began (%d load(s) so far); process peak RSS %.2f GB "
                 "(%.2f GB before loading) with %.2f GB of weights", time.perf_counter() - started, self.loads,
                 peak_rss_bytes() / 1e9, resident_before / 1e9, _weight_bytes(pipe) / 1e9)
        report(Progress("load", 1, 1, "model ready"))
        cancel.raise_if_cancelled()

        preview = inputs.preview
        true_preview = inputs.true_decode_preview
        steps = req.steps
        preview_frame = inputs.num_frames // 2

        def on_unet_call(done: int, total: int) -> None:
            if done == 1:
                log.info("first UNet call done %.2f s after the render's load phase began", time.perf_counter() - started)
            report(Progress("denoise", done, total, f"UNet call {done}/{total}"))
            cancel.raise_if_cancelled()

        def on_step_end(pipeline, step: int, _t, kwargs: dict) -> dict:
            cancel.raise_if_cancelled()
            latents = kwargs["latents"]
            _require_finite(latents, f"after denoising step {step + 1} of {steps}")  # stop now, not after decode
            if preview is not None:
                if true_preview:
                    image = self._decode_frames(pipeline, latents[:, preview_frame:preview_frame + 1], 1)[0]
                else:
                    image = latent_preview(latents, preview_frame)
                preview(image, step + 1, steps)
            return {}

        generator = torch.Generator("cpu").manual_seed(int(inputs.seed))
        embedding = inputs.face_embedding
        extra = self._hjb_arguments(inputs, cancel) if req.hjb.enabled else {}
        report(Progress("encode", 0, 1, "encoding the reference"))
        try:
            with StageClock(pipe, inputs.render_started, started):
                output = pipe(
                image=inputs.reference, pose_images=inputs.pose_images, id_embedding=embedding,
                height=inputs.height, width=inputs.width, num_frames=inputs.num_frames, tile_size=req.tile_size,
                tile_overlap=req.tile_overlap, num_inference_steps=steps, min_guidance_scale=req.min_guidance,
                max_guidance_scale=req.max_guidance, fps=req.fps, motion_bucket_id=req.motion_bucket,
                noise_aug_strength=req.noise_aug, decode_chunk_size=decode_chunk, generator=generator,
                batched_cfg=batched_cfg, output_type="latent", callback_on_step_end=on_step_end,
                callback_on_unet_call=on_unet_call, **extra,
                )
        except ValueError as error:  # check_inputs: the message names the bad value
            raise InputError(f"the pipeline refused the inputs: {error}") from None
        latents = output.frames
        _require_finite(latents, "in the denoised latents")
        cancel.raise_if_cancelled()
        yield from self._stream_decode(pipe, latents, decode_chunk, report, cancel)

    @staticmethod
    def _say(inputs: RenderInputs, report: ProgressCallback, plan) -> None:
        """Tell the person what the memory budget made the renderer choose (log, progress line, sidecar notes)."""
        from studio.render.memory import GB

        budget = f"{plan.budget / GB:.1f} GB"
        if plan.choices:
            text = f"to fit {budget}: " + "; ".join(plan.choices)
        else:
            text = f"{plan.estimate.summary()}; fits {budget} as requested"
        if not plan.fits:
            text += (f" — still {plan.estimate.total / GB:.1f} GB predicted; lower the size, the tile size or the "
                     "frames if this runs out of memory")
        log.warning("%s", text)
        report(Progress("load", 0, 1, text))
        if plan.choices or not plan.fits:
            inputs.warnings.append(text)

    @staticmethod
    def _hjb_arguments(inputs: RenderInputs, cancel: CancelToken) -> dict:
        """HJB keyword arguments: settings, one face box per frame (gaps held from a neighbour), reference box."""
        boxes = list(inputs.face_boxes or [None] * inputs.num_frames)
        if not any(b is not None for b in boxes):
            raise InputError("HJB face refinement needs a face in the driving frames, and none was found; "
                             "render without --hjb")
        first = next(b for b in boxes if b is not None)
        held, last = [], first
        for box in boxes:
            last = box if box is not None else last
            held.append(tuple(float(v) for v in last))
        reference_box = inputs.reference_face_box
        if reference_box is None:
            raise InputError("HJB face refinement needs the reference photo's face box, and no face was found in "
                             "the photo; render without --hjb")

        def on_iteration(_step: int, _iteration: int, _loss: float) -> None:
            cancel.raise_if_cancelled()

        return {
            "hjb": inputs.request.hjb,
            "face_boxes_xyxy": held, "reference_face_box_xyxy": tuple(float(v) for v in reference_box),
            "callback_on_hjb_iteration": on_iteration,
        }

    def _decode_frames(self, pipe, latents, chunk: int) -> np.ndarray:
        import torch

        with torch.no_grad():
            frames = pipe.decode_latents(latents, latents.shape[1], chunk)
        _require_finite(frames, "in the VAE's decoded frames")  # clamping would turn them into a black video
        video = pipe.postprocess(frames, "np")[0]  # [n, H, W, 3] float in [0, 1]
        return (video * 255).round().astype(np.uint8)

    def _stream_decode(self, pipe, latents, chunk: int, report: ProgressCallback,
                       cancel: CancelToken) -> Iterator[np.ndarray]:
        total = latents.shape[1]
        start = 0
        while start < total:
            cancel.raise_if_cancelled()
            size = min(chunk, total - start)
            try:
                frames = self._decode_frames(pipe, latents[:, start:start + size], size)
            except (RuntimeError, MemoryError) as error:
                if not _is_oom(error) or chunk == 1:
                    raise
                chunk = max(1, chunk // 2)
                log.warning("out of memory decoding %d frames; retrying with decode chunk %d", size, chunk)
                _empty_cache()
                continue
            yield from frames
            start += size
            report(Progress("decode", start, total, f"decoded {start}/{total}"))
            del frames


def _weight_bytes(pipe) -> int:
    """Bytes of every parameter and buffer of the pipeline's modules (what loading has to hold)."""
    import torch

    modules = [m for m in getattr(pipe, "components", {}).values() if isinstance(m, torch.nn.Module)]
    return sum(t.numel() * t.element_size() for m in modules for t in (*m.parameters(), *m.buffers()))


def _require_finite(tensor, where: str) -> None:
    """A render whose numbers went NaN or infinite stops here with the cause, never as a black video."""
    import torch

    if not bool(torch.isfinite(tensor).all()):
        dtype = str(tensor.dtype).removeprefix("torch.")
        raise StudioError(f"the render produced NaN or infinite values {where} (computed in {dtype}): with half "
                          "precision render again with --dtype fp32; otherwise the weights are damaged or overflow "
                          "(check them with `python -m studio doctor --models DIR`)")


def _empty_cache() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


__all__ = ["DiffusionEngine", "latent_preview"]
