"""Loading a shipped or user-given ONNX model folder: shared by the embedder and the harm model."""

from __future__ import annotations

import json
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
        model_bytes = files.joinpath("model.onnx").read_bytes()
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot load the {what} from {files}: {exc}{hint}") from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Spinning threads would keep burning a core after each run, slowing whatever
    # the app (or the Guard's matching) does next.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    return config, tokenizer, session
