"""Loading a shipped or user-given ONNX model folder: shared by the embedder and the harm model."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from ..._exceptions import ConfigurationError

REQUIRED = ("model.onnx", "tokenizer.json", "config.json")


def check_model_dir(model_dir: Path, what: str, script: str) -> None:
    """Fail at construction, not first use, when a user's folder lacks a file."""
    missing = [f for f in REQUIRED if not (model_dir / f).is_file()]
    if missing:
        raise ConfigurationError(
            f"{what} folder {model_dir} lacks {', '.join(missing)}; it needs "
            f"model.onnx, tokenizer.json and config.json (see {script})"
        )


def load_model(files: Any, threads: int, what: str, hint: str) -> tuple[dict[str, Any], Any, Any]:
    """(config, tokenizer, session) from a folder or package resource; typed error otherwise."""
    try:
        import onnxruntime as ort
        from tokenizers import Tokenizer
    except ImportError as exc:  # pragma: no cover
        raise ConfigurationError(f"the {what} needs onnxruntime and tokenizers: {exc}") from None
    try:
        config = json.loads(files.joinpath("config.json").read_text(encoding="utf-8"))
        tokenizer = Tokenizer.from_str(files.joinpath("tokenizer.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot load the {what} from {files}: {exc}{hint}") from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Spinning threads would keep burning a core after each run, slowing whatever
    # the app (or the Guard's matching) does next.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        # From a path, not bytes: ONNX Runtime then reads the weights once instead of
        # holding a second copy while it builds the session (about 60 MiB less per model
        # resident, 120 MiB less at the peak).
        with resources.as_file(files.joinpath("model.onnx")) as path:
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - onnxruntime's load errors (InvalidProtobuf, Fail...) share no base
        raise ConfigurationError(f"cannot load the {what} from {files}: {exc}{hint}") from None
    return config, tokenizer, session
