import types

import guardrail


def test_public_surface_is_pinned_and_rehomed():
    public = sorted(
        (
            n
            for n in dir(guardrail)
            if not n.startswith("_") and not isinstance(getattr(guardrail, n), types.ModuleType)
        ),
        key=str.casefold,
    )
    assert sorted(guardrail.__all__, key=str.casefold) == public
    assert guardrail.Guard.__module__ == "guardrail"
    assert repr(guardrail.GuardrailError).endswith("'guardrail.GuardrailError'>")


def test_core_does_not_import_langchain():
    import subprocess
    import sys

    code = "import guardrail, sys; print(any(m.startswith('langchain') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_import_guardrail_loads_no_model_runtime():
    # A process that only imports guardrail (a CLI's --help, an app's start-up) must not
    # pay for numpy and ONNX Runtime; the local engine loads them when first used.
    import subprocess
    import sys

    code = ("import guardrail, sys; print(sorted(m for m in ('numpy', 'onnxruntime', 'tokenizers', 'httpx') "
            "if m in sys.modules)); guardrail.LocalEngine; print('numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "True"]


def test_every_shipped_weights_folder_names_its_model_data_and_licences():
    from importlib import resources

    weights = resources.files("guardrail").joinpath("_weights")
    folders = [f for f in weights.iterdir() if f.is_dir() and f.joinpath("model.onnx").is_file()]
    assert folders
    for folder in folders:
        notice = folder.joinpath("NOTICE").read_text(encoding="utf-8")
        assert "all-MiniLM-L6-v2" in notice and "Apache" in notice
        assert "Apache License" in folder.joinpath("LICENSE").read_text(encoding="utf-8")
        assert "Copyright (c) 2026 Matt" not in folder.joinpath("LICENSE").read_text(encoding="utf-8")
