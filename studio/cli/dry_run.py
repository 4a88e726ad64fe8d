"""``python -m studio render ... --dry-run``: predict the render's peak memory and print it; render nothing."""

from __future__ import annotations

import dataclasses
import json

from studio.request.render_request import RenderRequest


def frame_count(request: RenderRequest) -> tuple[int, str | None]:
    """How many frames the request renders, from the motion's header (no decoding); a note when it had to guess."""
    from studio.errors import StudioError
    from studio.interpolation.cost import driving_timing

    try:
        return driving_timing(request)[0], None
    except (StudioError, OSError, ValueError) as error:
        frames = request.max_frames or request.tile_size
        return frames, f"could not count the motion's frames ({error}); assuming {frames}"


def print_memory_prediction(request: RenderRequest, as_json: bool = False) -> int:
    """Print the prediction (words, or one JSON object on stdout with ``as_json``); renders nothing."""
    from studio.interpolation.cost import request_fill
    from studio.render.memory import GB, MemoryModel, device_memory, memory_request, pick_device, pick_dtype

    fill = request_fill(request)
    fill_json = None if fill is None else dataclasses.asdict(fill)
    if request.engine != "diffusion":
        text = "the warp engine needs no model memory beyond the frames (a few hundred MB); nothing to predict"
        print(json.dumps({"engine": request.engine, "note": text, "interpolation": fill_json}) if as_json else text)
        if fill is not None and not as_json:
            print(f"of {fill.driving_frames} driving frames it {fill.text()}")
        return 0
    frames, note = frame_count(request)
    if note and not as_json:
        print(f"note: {note}")
    device = pick_device(request.device)
    dtype = {"torch.float32": "fp32", "torch.float16": "fp16", "torch.bfloat16": "bf16"}[
        str(pick_dtype(request.dtype, device))]
    model = MemoryModel.for_folder(request.models) if request.models else MemoryModel.released()
    wanted = memory_request(request, frames, device, dtype)
    estimate = model.estimate(wanted)
    available = device_memory(device)
    budget = request.max_memory * GB if request.max_memory else (available if device == "cuda" else None)
    plan = model.plan(wanted, int(budget)) if budget is not None else None
    if as_json:
        print(json.dumps({
            "engine": request.engine, "frames": frames, "note": note, "device": device, "dtype": dtype,
            "interpolation": fill_json,
            "available_bytes": available, **estimate.as_dict(),
            "budget_bytes": None if budget is None else int(budget),
            "plan": None if plan is None else {"fits": plan.fits, "choices": plan.choices,
                                               "total_bytes": plan.estimate.total},
        }, indent=2))
        return 0
    print(f"{frames} frames at {request.width}x{request.height}, tile {wanted.tile}, decode chunk "
          f"{wanted.decode_chunk}{', HJB ' + wanted.hjb if wanted.hjb else ''}: {estimate.summary(available)}")
    print(f"  {estimate.breakdown()}")
    if fill is not None:
        print(f"of {fill.driving_frames} driving frames it {fill.text()}")
    if plan is not None and budget is not None:
        if plan.choices:
            print(f"to fit {budget / GB:.2f} GB the renderer would use: " + "; ".join(plan.choices))
            print(f"  then: {plan.estimate.summary()}")
        if not plan.fits:
            print(f"does not fit {budget / GB:.2f} GB even so; lower the size, the tile size or the frames")
        elif not plan.choices:
            print(f"fits {budget / GB:.2f} GB as requested")
    return 0
