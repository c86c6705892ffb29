import numpy as np
import pytest

from guardrail import ConfigurationError
from guardrail.backends.local.embedder import Embedder, default_embedder


def test_shipped_model_loads_from_the_package_and_embeds():
    e = default_embedder()
    v = e.embed(["The cat sat on the mat.", "A kitten is sitting on a rug.", "Quarterly revenue grew 4%."])
    assert v.shape == (3, e.dim) == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    sims = v @ v.T
    assert sims[0, 1] > 0.5 > sims[0, 2]  # paraphrase close, unrelated far


def test_batching_cache_and_duplicates_agree():
    e = Embedder(cache_size=2)
    texts = ["alpha beta", "gamma", "alpha beta", "a much longer sentence " * 5]
    batch = e.embed(texts)
    assert np.allclose(batch[0], batch[2])
    one = Embedder(cache_size=0).embed_one("gamma")
    assert np.allclose(one, batch[1], atol=1e-5)
    assert len(e._cache) == 2  # bounded
    assert e.embed([]).shape == (0, 384)


def test_a_user_model_folder_must_have_its_files(tmp_path):
    with pytest.raises(ConfigurationError, match="model.onnx, tokenizer.json and config.json"):
        Embedder(tmp_path)


def test_windows_cover_long_text():
    e = default_embedder()
    text = "word " * 1000
    w = e.windows(text, size=1000, overlap=200)
    assert w[0][0] == 0 and w[-1][0] + len(w[-1][1]) == len(text)
    assert all(len(chunk) <= 1000 for _, chunk in w)


def test_engine_with_a_user_model_folder(tmp_path):
    import shutil
    from importlib import resources

    from guardrail import LocalEngine

    shipped = resources.files("guardrail").joinpath("_weights").joinpath("minilm_l6_v2")
    for name in ("model.onnx", "tokenizer.json", "config.json"):
        shutil.copyfile(str(shipped.joinpath(name)), tmp_path / name)
    engine = LocalEngine(":memory:", embedder=tmp_path)
    assert engine.embedder.model_dir == tmp_path
    assert engine.embedder.embed_one("hello").shape == (384,)
    engine.close()
