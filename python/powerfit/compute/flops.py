"""Training FLOPs per token of a dense decoder-only transformer, counted four ways:

- ``6N``: the usual approximation, 6 FLOPs per parameter per token (2 forward, 4 backward),
  with N the non-embedding parameters (Kaplan et al. 2020's N), or all of them (``6N_total``);
- ``kaplan``: Kaplan et al. 2020, Table 1: C_forward = 2N + 2 n_layer n_ctx d_attn (the
  attention-score term added), training = 3 C_forward; ``kaplan_embedding`` adds the table's
  embedding (4 d_model) and de-embedding (2 d_model n_vocab) rows, which its total leaves out;
- ``palm``: Chowdhery et al. 2022 (PaLM), Appendix B, the convention for MFU:
  6 N_total + 12 n_layer n_heads d_head n_ctx (both attention matrix products);
- ``hoffmann``: Hoffmann et al. 2022, Appendix F: every matrix product, the softmax, the
  embedding (as a one-hot product) and the output logits, backward = 2 x forward.

Parameters ignore biases and layer norms (as all four do). Grouped-query attention
(``n_kv_heads``) and gated feed-forward layers (``gated=True``: three matrices, as SwiGLU)
generalise the counts in the obvious way; with their defaults the formulas are the papers'.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import pandas as pd

from .._check import count, flag
from ..errors import InvalidOptionError

#: Largest dimension of a shape (layers, widths, vocabulary, context): far above any model,
#: small enough that every count stays exact in double precision.
MAX_DIMENSION = 2**40

#: Methods of :func:`flops_per_token`, in report order.
METHODS = ("6N", "6N_total", "kaplan", "kaplan_embedding", "palm", "hoffmann")

_DESCRIPTIONS = {
    "6N": "6 x non-embedding parameters",
    "6N_total": "6 x all parameters (embeddings included)",
    "kaplan": "Kaplan et al. 2020: 3 (2N + 2 n_layer n_ctx d_attn)",
    "kaplan_embedding": "kaplan + embedding (4 d) and de-embedding (2 d V) rows, x3",
    "palm": "PaLM (Chowdhery et al. 2022): 6 N_total + 12 n_layer n_heads d_head n_ctx",
    "hoffmann": "Hoffmann et al. 2022 App. F: all matmuls, softmax, embeddings, logits, x3",
}


def _whole(name: str, v: object, minimum: int = 1) -> int:
    return count(v, name, minimum=minimum, maximum=MAX_DIMENSION)


@dataclass(frozen=True)
class Architecture:
    """The shape of a dense decoder-only transformer.

    Attributes:
        n_layers, d_model, n_heads: depth, width and attention heads.
        vocab: vocabulary size; n_ctx: training sequence length.
        d_head: width of a head (default d_model / n_heads).
        n_kv_heads: key/value heads (default n_heads; fewer is grouped-query attention).
        d_ff: feed-forward width (default 4 d_model).
        gated: the feed-forward layer has three matrices (SwiGLU, GeGLU) instead of two.
        tied_embeddings: the output layer reuses the input embedding (no extra parameters).
        learned_positions: learned absolute position embeddings (n_ctx x d_model parameters).
    """

    n_layers: int
    d_model: int
    n_heads: int
    vocab: int
    n_ctx: int
    d_head: int | None = None
    n_kv_heads: int | None = None
    d_ff: int | None = None
    gated: bool = False
    tied_embeddings: bool = False
    learned_positions: bool = False

    def __post_init__(self) -> None:
        for name in ("n_layers", "d_model", "n_heads", "vocab", "n_ctx"):
            _whole(name, getattr(self, name))
        for name in ("d_head", "n_kv_heads", "d_ff"):
            v = getattr(self, name)
            if v is not None:
                _whole(name, v)
        for name in ("gated", "tied_embeddings", "learned_positions"):
            flag(getattr(self, name), name)
        if self.d_head is None and self.d_model % self.n_heads:
            raise InvalidOptionError(
                f"d_model ({self.d_model}) is not a multiple of n_heads ({self.n_heads}): "
                f"give d_head"
            )
        if self.n_kv_heads is not None and self.n_kv_heads > self.n_heads:
            raise InvalidOptionError(
                f"n_kv_heads ({self.n_kv_heads}) cannot exceed n_heads ({self.n_heads})"
            )

    @property
    def head_dim(self) -> int:
        """Width of one attention head."""
        return self.d_head if self.d_head is not None else self.d_model // self.n_heads

    @property
    def kv_heads(self) -> int:
        """Key/value heads."""
        return self.n_kv_heads if self.n_kv_heads is not None else self.n_heads

    @property
    def d_attn(self) -> int:
        """Total query width, n_heads x d_head (Kaplan's d_attn)."""
        return self.n_heads * self.head_dim

    @property
    def ff_width(self) -> int:
        """Feed-forward width."""
        return self.d_ff if self.d_ff is not None else 4 * self.d_model

    @property
    def attention_params(self) -> int:
        """Attention parameters per layer: Q and O (d_model x d_attn each), K and V."""
        d, dh = self.d_model, self.head_dim
        return 2 * d * self.d_attn + 2 * d * self.kv_heads * dh

    @property
    def ffn_params(self) -> int:
        """Feed-forward parameters per layer."""
        return (3 if self.gated else 2) * self.d_model * self.ff_width

    @property
    def params_nonembedding(self) -> int:
        """Kaplan et al.'s N: the layers' weight matrices."""
        return self.n_layers * (self.attention_params + self.ffn_params)

    @property
    def params_embedding(self) -> int:
        """Input embedding, untied output layer and learned positions."""
        v = self.vocab * self.d_model * (1 if self.tied_embeddings else 2)
        return v + (self.n_ctx * self.d_model if self.learned_positions else 0)

    @property
    def params_total(self) -> int:
        """All parameters (without biases and norms)."""
        return self.params_nonembedding + self.params_embedding


@dataclass(frozen=True)
class FlopCount:
    """Training FLOPs per token of an :class:`Architecture` by each method (see the module
    docstring), and the parameter counts they rest on."""

    architecture: Architecture
    counts: dict[str, float]

    def __getitem__(self, method: str) -> float:
        if method not in self.counts:
            raise InvalidOptionError(f"unknown method '{method}'; methods are {', '.join(METHODS)}")
        return self.counts[method]

    @property
    def spread(self) -> float:
        """Largest over smallest count: how far apart the methods are for this shape."""
        v = list(self.counts.values())
        return max(v) / min(v)

    def to_frame(self) -> pd.DataFrame:
        """One row per method: FLOPs per token, ratio to 6N and to Hoffmann's full count."""
        six, full = self.counts["6N"], self.counts["hoffmann"]
        return pd.DataFrame(
            {
                "method": list(METHODS),
                "flops_per_token": [self.counts[m] for m in METHODS],
                "ratio_to_6N": [self.counts[m] / six for m in METHODS],
                "ratio_to_hoffmann": [self.counts[m] / full for m in METHODS],
                "description": [_DESCRIPTIONS[m] for m in METHODS],
            }
        )

    def summary(self) -> str:
        """A text report of the counts and how far apart they are."""
        a = self.architecture
        lines = [
            (
                f"{a.n_layers} layers, d_model {a.d_model}, {a.n_heads} heads x {a.head_dim}, "
                f"{a.kv_heads} kv heads, d_ff {a.ff_width}{' (gated)' if a.gated else ''}, "
                f"vocab {a.vocab}, n_ctx {a.n_ctx}"
            ),
            (
                f"parameters: {a.params_nonembedding:.4g} non-embedding, "
                f"{a.params_embedding:.4g} embedding, {a.params_total:.4g} total"
            ),
        ]
        for row in self.to_frame().itertuples(index=False):
            lines.append(
                f"  {row.method:<17} {row.flops_per_token:.4g} FLOPs/token  "
                f"({row.ratio_to_6N:.3f} x 6N)"
            )
        lines.append(f"the counts differ by a factor {self.spread:.3f} for this shape")
        return "\n".join(lines)


def flops_per_token(arch: Architecture | None = None, **shape: object) -> FlopCount:
    """Training FLOPs per token of a dense decoder by every method in :data:`METHODS`.

    Pass an :class:`Architecture`, or its fields as keywords
    (``flops_per_token(n_layers=80, d_model=8192, n_heads=64, vocab=32000, n_ctx=2048)``).
    """
    if arch is None:
        fields = {f.name for f in dataclasses.fields(Architecture)}
        unknown = sorted(set(shape) - fields)
        if unknown:
            raise InvalidOptionError(
                f"unknown shape field(s) {', '.join(unknown)}; an Architecture has "
                f"{', '.join(sorted(fields))}"
            )
        required = [f.name for f in dataclasses.fields(Architecture)
                    if f.default is dataclasses.MISSING and f.name not in shape]  # fmt: skip
        if required:
            raise InvalidOptionError(
                f"flops_per_token needs an Architecture or its fields; missing "
                f"{', '.join(required)}"
            )
        arch = Architecture(**shape)  # type: ignore[arg-type]
    elif shape:
        raise InvalidOptionError("pass an Architecture or its fields, not both")
    elif not isinstance(arch, Architecture):
        raise InvalidOptionError(
            f"arch must be a powerfit.compute.Architecture, got {type(arch).__name__}"
        )
    L, d, V, T = arch.n_layers, arch.d_model, arch.vocab, arch.n_ctx
    h, dh, kv = arch.n_heads, arch.head_dim, arch.kv_heads
    n = float(arch.params_nonembedding)
    kaplan = 3.0 * (2.0 * n + 2.0 * L * T * arch.d_attn)
    # Hoffmann et al. 2022, Appendix F, per token (their per-sequence counts / n_ctx)
    qkv = 2.0 * d * (h * dh + 2 * kv * dh)
    scores = 2.0 * T * h * dh + 3.0 * h * T + 2.0 * T * h * dh
    project = 2.0 * h * dh * d
    dense = 2.0 * (3 if arch.gated else 2) * d * arch.ff_width
    forward = 2.0 * V * d + L * (qkv + scores + project + dense) + 2.0 * d * V
    counts = {
        "6N": 6.0 * n,
        "6N_total": 6.0 * arch.params_total,
        "kaplan": kaplan,
        "kaplan_embedding": kaplan + 3.0 * (4.0 * d + 2.0 * d * V),
        "palm": 6.0 * arch.params_total + 12.0 * L * h * dh * T,
        "hoffmann": 3.0 * forward,
    }
    if not all(math.isfinite(v) for v in counts.values()):  # pragma: no cover - ints are finite
        raise InvalidOptionError("the shape is too large to count in double precision")
    return FlopCount(arch, counts)
