import base64
import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from guardrail import (
    ConflictError,
    EmptyTextError,
    Guard,
    InvalidInputError,
    LimitExceededError,
    NotFoundError,
)
from guardrail._resources import INCIDENT_LIMITS, IncidentStatus


@pytest.fixture
def engine(engine_on_each_store):
    """Every test here runs on SQLite and on PostgreSQL."""
    return engine_on_each_store


SCAM = [
    "Send 1 BTC to this address and get 2 BTC back, limited time offer!",
    "Elon Musk is giving away free bitcoin, just send yours first and it will be doubled",
    "Crypto giveaway: transfer any amount of ETH and receive double back instantly",
]


@pytest.fixture
def scam(engine):
    ti = engine.text_incidents
    ti.create_or_update("scam", description="crypto doubling scams")
    ti.add_samples("scam", SCAM)
    ti.deploy("scam")
    return ti


def test_text_incident_lifecycle(engine):
    ti = engine.text_incidents
    inc = ti.create_or_update("scam", description="d")
    assert (inc.incident_name, inc.kind, inc.status) == ("scam", "text", IncidentStatus.NOT_DEPLOYED)
    added = ti.add_samples("scam", SCAM[:2])
    assert len({s.incident_sample_id for s in added}) == 2
    with pytest.raises(ConflictError, match="not deployed"):
        ti.detect("anything", ["scam"])
    assert ti.deploy("scam") == "Succeeded"
    assert ti.get("scam").status == IncidentStatus.DEPLOYED
    ti.add_samples("scam", SCAM[2:])
    assert ti.get("scam").status == IncidentStatus.PENDING
    assert [s.text for s in ti.list_samples("scam")] == SCAM
    assert ti.get_sample("scam", added[0].incident_sample_id).text == SCAM[0]
    ti.remove_samples("scam", [added[0].incident_sample_id])
    assert len(ti.list_samples("scam")) == 2
    assert [i.incident_name for i in ti.list()] == ["scam"]
    ti.delete("scam")
    with pytest.raises(NotFoundError, match="create it with"):
        ti.get("scam")


@pytest.mark.parametrize("typed", [
    "D o u b l e  y o u r  b i t c o i n!  S e n d  0.5 B T C  n o w  and we return 1 BTC to you.",
    "D.o.u.b.l.e your b.i.t.c.o.i.n! S.e.n.d 0.5 BTC n.o.w and we r.e.t.u.r.n 1 BTC to you.",
])
def test_a_paraphrase_typed_apart_still_hits(scam, typed):
    # Read as typed, these score 0.54 and 0.41 (below the 0.60 default); the de-obfuscated
    # reading is matched too.
    assert scam.detect(typed, ["scam"])[0].detected


def test_paraphrases_hit_and_unrelated_or_topical_text_does_not(scam):
    hit = scam.detect("Double your bitcoin! Send 0.5 BTC now and we return 1 BTC to you.", ["scam"])[0]
    assert scam.detect("How do I make pancakes?", ["scam"]) == []  # only hits, as the service
    assert hit.detected and hit.score >= 0.65 and hit.item_text in SCAM
    for text in ("What is the current price of bitcoin?", "How do I make pancakes?",
                 "Bitcoin mining uses a lot of electricity."):
        assert not scam.detect(text, ["scam"], include_misses=True)[0].detected, text


def test_per_incident_threshold(engine, scam):
    text = "Bitcoin mining uses a lot of electricity."
    score = scam.detect(text, ["scam"], include_misses=True)[0].score
    scam.create_or_update("scam", threshold=max(0.01, score - 0.01))
    assert scam.detect(text, ["scam"])[0].detected
    assert scam.detect(text, ["scam"], thresholds={"scam": min(1.0, score + 0.05)}) == []


def test_limits_and_bad_input(engine):
    ti = engine.text_incidents
    with pytest.raises(LimitExceededError):
        ti.create_or_update("x" * 101)
    with pytest.raises(EmptyTextError):
        ti.create_or_update("")
    ti.create_or_update("i")
    with pytest.raises(LimitExceededError, match="under 500"):
        ti.add_samples("i", ["x" * 500])
    with pytest.raises(EmptyTextError):
        ti.add_samples("i", ["ok", "  "])
    with pytest.raises(InvalidInputError):
        ti.add_samples("i", [42])
    assert ti.list_samples("i") == []  # nothing written half-way
    with pytest.raises(LimitExceededError):
        ti.add_samples("i", ["s"] * (INCIDENT_LIMITS.samples_per_incident + 1))
    with pytest.raises(ConflictError, match="no samples"):
        ti.deploy("i")
    with pytest.raises(NotFoundError):
        ti.add_samples("nope", ["x"])


def test_at_most_100_incidents(engine, monkeypatch):
    monkeypatch.setattr(INCIDENT_LIMITS, "incidents_per_kind", 3)
    for i in range(3):
        engine.text_incidents.create_or_update(f"i{i}")
    with pytest.raises(LimitExceededError, match="limit"):
        engine.text_incidents.create_or_update("one-too-many")
    engine.image_incidents.create_or_update("images-count-separately")


def picture(seed: int, size=(320, 240)) -> Image.Image:
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", size, tuple(int(x) for x in rng.integers(0, 255, 3)))
    d = ImageDraw.Draw(img)
    for _ in range(15):
        x0, x1 = sorted(rng.integers(0, size[0], 2))
        y0, y1 = sorted(rng.integers(0, size[1], 2))
        d.rectangle((x0, y0, x1, y1), fill=tuple(int(x) for x in rng.integers(0, 255, 3)))
    return img


def encode(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def test_image_incident_matches_edited_copies_not_other_images(engine, tmp_path):
    ii = engine.image_incidents
    ii.create_or_update("memes")
    original = picture(1)
    path = tmp_path / "sample.png"
    path.write_bytes(encode(original))
    samples = ii.add_samples("memes", [str(path), base64.b64encode(encode(picture(2), "JPEG")).decode()])
    assert samples[0].image is not None
    ii.deploy("memes")
    for copy in (encode(original, "JPEG", quality=40), encode(original.resize((160, 120)), "WEBP"),
                 encode(original.transpose(Image.FLIP_LEFT_RIGHT), "BMP"), encode(original.rotate(90, expand=True), "GIF")):
        found = ii.detect(copy, ["memes"])[0]
        assert found.detected and found.item_id == samples[0].incident_sample_id
    for seed in range(10, 20):
        assert ii.detect(encode(picture(seed)), ["memes"]) == []


def test_image_bad_input(engine, tmp_path):
    ii = engine.image_incidents
    ii.create_or_update("memes")
    with pytest.raises(InvalidInputError, match="not valid base64"):
        ii.add_samples("memes", ["@@not-base64@@"])
    with pytest.raises(InvalidInputError, match="unrecognised image"):
        ii.add_samples("memes", [b"GIF89a but not really an image"])
    with pytest.raises(InvalidInputError, match="not supported"):
        ii.add_samples("memes", [encode(picture(1), "ICO")])
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (4 * 1024 * 1024 + 1))
    with pytest.raises(LimitExceededError, match="4 MB"):
        ii.add_samples("memes", [str(big)])
    assert ii.list_samples("memes") == []


def test_image_url_is_fetched(engine, respx_mock):
    import httpx

    # A public address literal: no DNS needed, and not an internal address.
    respx_mock.get("https://93.184.216.34/cat.png").mock(return_value=httpx.Response(200, content=encode(picture(3))))
    ii = engine.image_incidents
    ii.create_or_update("cats")
    ii.add_samples("cats", ["https://93.184.216.34/cat.png"])
    ii.deploy("cats")
    assert ii.detect(encode(picture(3), "JPEG"), ["cats"])[0].detected


async def test_incidents_through_the_guard_policy(engine, scam):
    guard = Guard({"harm": {}, "prompt": {"incidents": ["scam"]}}, backend=engine)
    v = await guard.check_prompt("Send me 1 BTC and I will send back 2 BTC, guaranteed!")
    assert v.blocked and v.triggered[0].name == "scam"
    assert (await guard.check_prompt("Is bitcoin a good long-term investment?")).allowed
    strict = Guard({"harm": {}, "prompt": {"incidents": [{"name": "scam", "threshold": 0.99}]}}, backend=engine)
    assert (await strict.check_prompt("Send me 1 BTC and I will send back 2 BTC, guaranteed!")).allowed
    engine.text_incidents.create_or_update("later")
    undeployed = Guard({"harm": {}, "prompt": {"incidents": ["later"]}}, backend=engine)
    v = await undeployed.check_prompt("hello")
    assert v.blocked and "'later' is not deployed" in v.reason  # fail closed, with the reason


async def test_guard_check_image(engine):
    from guardrail import UnsupportedInputError

    ii = engine.image_incidents
    ii.create_or_update("memes")
    original = picture(5)
    ii.add_samples("memes", [encode(original)])
    ii.deploy("memes")
    guard = Guard({"harm": {}, "prompt": {"image_incidents": [{"name": "memes", "action": "block"}]}}, backend=engine)
    v = await guard.check_image(encode(original, "JPEG", quality=50))
    assert v.blocked and v.text == guard.policy.prompt.refusal
    assert (await guard.check_image(encode(picture(77)))).allowed
    with pytest.raises(InvalidInputError):
        await guard.check_image("@@@not an image@@@")
    with pytest.raises(UnsupportedInputError):
        await guard.check_image(12345)
    assert guard.check_image_sync(encode(original)).blocked
    guard.close()


def test_readme_incident_example_gives_what_its_comment_shows():
    from guardrail import LocalEngine

    engine = LocalEngine(":memory:")
    ti = engine.text_incidents
    ti.create_or_update("crypto-giveaway", description="send crypto, get double back")
    ti.add_samples("crypto-giveaway", ["Send 1 BTC to this address and get 2 BTC back!",
                                       "Crypto giveaway: send ETH to this wallet and we send double back."])
    ti.deploy("crypto-giveaway")
    [hit] = ti.detect("Giveaway! Send ETH to this wallet and get double back.", ["crypto-giveaway"])
    assert hit.name == "crypto-giveaway" and hit.detected and round(hit.score, 2) == 0.86
    assert hit.item_text.startswith("Crypto giveaway:")
    readme = (__import__("pathlib").Path(__file__).parent.parent / "README.md").read_text()
    assert "score=0.86, detected=True" in readme


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/admin.png", "http://10.1.2.3/x.png", "http://169.254.169.254/latest/meta-data",
    "http://[::1]/x.png", "http://192.168.0.10/x.png",
])
async def test_image_links_to_internal_addresses_are_not_fetched(engine, respx_mock, url):
    import httpx

    route = respx_mock.get(url=url).mock(return_value=httpx.Response(200, content=encode(picture(3))))
    engine.image_incidents.create_or_update("cats")
    engine.image_incidents.add_samples("cats", [encode(picture(3))])
    engine.image_incidents.deploy("cats")
    guard = Guard({"harm": {}, "image_incidents": ["cats"]}, backend=engine)
    verdict = await guard.check_image(url)
    assert verdict.blocked and verdict.errors and not route.called  # fail closed, nothing fetched
    with pytest.raises(InvalidInputError):
        engine.image_incidents.add_samples("cats", [url])
    with pytest.raises(InvalidInputError):  # not http(s): never fetched, a typed error
        await guard.check_image("file:///etc/passwd")


async def test_redirects_are_checked_at_every_hop_and_bounded(engine, respx_mock):
    import httpx

    respx_mock.get("https://93.184.216.34/a.png").mock(
        return_value=httpx.Response(302, headers={"location": "http://127.0.0.1/secret.png"}))
    inner = respx_mock.get("http://127.0.0.1/secret.png").mock(return_value=httpx.Response(200, content=b"x"))
    for i in range(5):
        respx_mock.get(f"https://93.184.216.34/loop{i}.png").mock(
            return_value=httpx.Response(302, headers={"location": f"/loop{i + 1}.png"}))
    engine.image_incidents.create_or_update("cats")
    engine.image_incidents.add_samples("cats", [encode(picture(3))])
    engine.image_incidents.deploy("cats")
    guard = Guard({"harm": {}, "image_incidents": ["cats"]}, backend=engine)
    verdict = await guard.check_image("https://93.184.216.34/a.png")
    assert verdict.blocked and "internal address" in verdict.reason and not inner.called
    verdict = await guard.check_image("https://93.184.216.34/loop0.png")
    assert verdict.blocked and "redirects" in verdict.reason
    allowed = Guard({"harm": {}, "image_incidents": ["cats"]}, backend=engine, image_hosts=["127.0.0.0/8"])
    respx_mock.get("http://127.0.0.1/cat.png").mock(return_value=httpx.Response(200, content=encode(picture(3))))
    assert (await allowed.check_image("http://127.0.0.1/cat.png")).blocked  # fetched and matched


def test_decompression_bombs_are_refused_before_decoding(engine):
    import io

    from PIL import Image

    from guardrail import LimitExceededError

    buf = io.BytesIO()
    Image.new("1", (13000, 13000)).save(buf, "PNG")  # ~20 KB on disk, 169 MP decoded
    engine.image_incidents.create_or_update("cats")
    with pytest.raises(LimitExceededError, match="pixels"):
        engine.image_incidents.add_samples("cats", [buf.getvalue()])


@pytest.fixture
def other_encoder(tmp_path):
    """The shipped embedder's files under another model id: a different vector space as
    far as the store can tell."""
    import json
    import shutil
    from importlib import resources

    src = resources.files("guardrail").joinpath("_weights").joinpath("minilm_l6_v2")
    dst = tmp_path / "other-encoder"
    dst.mkdir()
    for name in ("model.onnx", "tokenizer.json", "config.json"):
        shutil.copy(src.joinpath(name), dst / name)
    config = json.loads((dst / "config.json").read_text())
    (dst / "config.json").write_text(json.dumps({**config, "id": "other-encoder"}))
    return dst


def test_samples_embedded_by_another_encoder_are_embedded_again(engine, scam, other_encoder):
    from guardrail import LocalEngine

    # Spoil the stored vectors: only an engine that recomputes them can still detect.
    with engine.store.transaction() as conn:
        conn.execute("UPDATE incident_samples SET vector = ?, encoder = NULL",
                     (np.zeros(384, dtype=np.float32).tobytes(),))
    text = "Send 1 BTC and get 2 BTC back, limited time!"
    same = LocalEngine(engine.store, embedder=None)  # NULL is the only encoder there was: trusted as stored
    assert same.text_incidents.detect(text, ["scam"], include_misses=True)[0].score == 0.0
    other = LocalEngine(engine.store, embedder=other_encoder)
    hit = other.text_incidents.detect(text, ["scam"])
    assert hit and hit[0].score > 0.8
    with engine.store.read() as conn:  # recomputed in memory only: a replica on the old model is not disturbed
        assert {r[0] for r in conn.execute("SELECT encoder FROM incident_samples")} == {None}


def test_new_samples_record_their_encoder(engine, scam):
    with engine.store.read() as conn:
        assert {r[0] for r in conn.execute("SELECT encoder FROM incident_samples")} == {"all-MiniLM-L6-v2"}
