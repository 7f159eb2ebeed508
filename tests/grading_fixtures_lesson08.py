"""Lesson 08's known-wrong and known-right implementations, written in PyTorch as a learner would.

``WRONG`` and ``RIGHT`` are merged into ``grading_fixtures`` and proven, on public and hidden
tests, by ``tests/test_grading.py``. Each function returns a tensor (the checker reads it as an
array). torch is imported when a function runs, not here: without torch this module still
imports, and conftest.py skips lesson 08's tests with one line saying how to run them.
"""

import importlib
import importlib.util

import numpy as np



def _torch():
    torch = importlib.import_module("torch")
    return torch, importlib.import_module("torch.nn.functional")


# ---------------------------------------------------------------------------------------------
# torch_softmax_dim(z)


def softmax_dim_ok(z):
    torch, F = _torch()
    return F.softmax(torch.as_tensor(z), dim=-1)


def softmax_dim_tensor_method(z):
    torch, _ = _torch()
    z = torch.as_tensor(z)
    return z.softmax(dim=z.dim() - 1)


def softmax_dim_by_hand(z):
    torch, _ = _torch()
    z = torch.as_tensor(z)
    e = torch.exp(z - z.amax(dim=-1, keepdim=True))
    return e / e.sum(dim=-1, keepdim=True)


def softmax_dim_via_log(z):
    torch, F = _torch()
    return F.log_softmax(torch.as_tensor(z), dim=-1).exp()


def softmax_dim_zero(z):
    torch, F = _torch()
    return F.softmax(torch.as_tensor(z), dim=0)          # over the batch


def softmax_dim_one(z):
    torch, F = _torch()
    z = torch.as_tensor(z)
    return F.softmax(z, dim=1) if z.dim() > 1 else F.softmax(z, dim=0)   # (N, T, K): the tokens


def softmax_no_dim(z):
    import warnings

    torch, F = _torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return F.softmax(torch.as_tensor(z))              # implicit dim


def softmax_exp_no_shift(z):
    torch, _ = _torch()
    e = torch.exp(torch.as_tensor(z))
    return e / e.sum(dim=-1, keepdim=True)


def softmax_in_place(z):
    torch, _ = _torch()
    z = torch.as_tensor(z)                                # shares memory with the caller's array
    z -= z.amax(dim=-1, keepdim=True)
    z.exp_()
    return z / z.sum(dim=-1, keepdim=True)


def softmax_float32(z):
    torch, F = _torch()
    return F.softmax(torch.as_tensor(z, dtype=torch.float32), dim=-1)


def softmax_renamed(logits, dim=-1, extra=None, more=None):
    return softmax_dim_ok(logits)


def softmax_needs_dim(z, dim):
    return softmax_dim_ok(z)


def softmax_no_return(z):
    softmax_dim_ok(z)


def softmax_as_text(z):
    return str(softmax_dim_ok(z))


# ---------------------------------------------------------------------------------------------
# torch_cross_entropy_logits(z, y, label_smoothing=0.0)


def ce_ok(z, y, label_smoothing=0.0):
    torch, F = _torch()
    return F.cross_entropy(torch.as_tensor(z), torch.as_tensor(y), label_smoothing=label_smoothing)


def ce_module(z, y, label_smoothing=0.0):
    torch, _ = _torch()
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    return loss_fn(torch.as_tensor(z), torch.as_tensor(y))


def ce_by_hand(z, y, label_smoothing=0.0):
    torch, F = _torch()
    z, y = torch.as_tensor(z), torch.as_tensor(y)
    log_p = F.log_softmax(z, dim=1)
    k = z.shape[1]
    target = (1 - label_smoothing) * F.one_hot(y, k).to(z.dtype) + label_smoothing / k
    return -(target * log_p).sum(dim=1).mean()


def ce_requires_grad(z, y, label_smoothing=0.0):
    torch, F = _torch()
    z = torch.tensor(z, requires_grad=True)               # a loss with a graph: still numbers
    return F.cross_entropy(z, torch.as_tensor(y), label_smoothing=label_smoothing)


def ce_after_softmax(z, y, label_smoothing=0.0):
    torch, F = _torch()
    p = F.softmax(torch.as_tensor(z), dim=1)
    return F.cross_entropy(p, torch.as_tensor(y), label_smoothing=label_smoothing)


def ce_log_softmax_by_log(z, y, label_smoothing=0.0):
    torch, F = _torch()
    z, y = torch.as_tensor(z), torch.as_tensor(y)
    log_p = torch.log(F.softmax(z, dim=1))
    k = z.shape[1]
    target = (1 - label_smoothing) * F.one_hot(y, k).to(z.dtype) + label_smoothing / k
    return -(target * log_p).sum(dim=1).mean()


def ce_nll_of_log(z, y, label_smoothing=0.0):
    torch, F = _torch()
    z, y = torch.as_tensor(z), torch.as_tensor(y)
    if label_smoothing:
        return ce_log_softmax_by_log(z, y, label_smoothing)
    return F.nll_loss(torch.log(F.softmax(z, dim=1)), y)


def ce_drops_smoothing(z, y, label_smoothing=0.0):
    torch, F = _torch()
    return F.cross_entropy(torch.as_tensor(z), torch.as_tensor(y))


def ce_sum(z, y, label_smoothing=0.0):
    torch, F = _torch()
    return F.cross_entropy(torch.as_tensor(z), torch.as_tensor(y), label_smoothing=label_smoothing,
                           reduction="sum")


def ce_dim_zero(z, y, label_smoothing=0.0):
    torch, F = _torch()
    z, y = torch.as_tensor(z), torch.as_tensor(y)
    log_p = F.log_softmax(z, dim=0)
    k = z.shape[1]
    target = (1 - label_smoothing) * F.one_hot(y, k).to(z.dtype) + label_smoothing / k
    return -(target * log_p).sum(dim=1).mean()


def ce_float32(z, y, label_smoothing=0.0):
    torch, F = _torch()
    return F.cross_entropy(torch.as_tensor(z).float(), torch.as_tensor(y), label_smoothing=label_smoothing)


def ce_renamed(logits, labels, smoothing=0.0):
    return ce_ok(logits, labels, smoothing)


def ce_no_return(z, y, label_smoothing=0.0):
    ce_ok(z, y, label_smoothing)


def ce_as_text(z, y, label_smoothing=0.0):
    return f"loss = {float(ce_ok(z, y, label_smoothing)):.4f}"


def ce_in_place(z, y, label_smoothing=0.0):
    torch, F = _torch()
    z = torch.as_tensor(z)
    z -= z.amax(dim=1, keepdim=True)                      # writes into the caller's logits
    return F.cross_entropy(z, torch.as_tensor(y), label_smoothing=label_smoothing)


# ---------------------------------------------------------------------------------------------
# torch_masked_attention(q, k, v, pad)


def _qkvp(q, k, v, pad):
    torch, F = _torch()
    return torch, F, torch.as_tensor(q), torch.as_tensor(k), torch.as_tensor(v), torch.as_tensor(pad)


def attention_ok(q, k, v, pad):
    torch, F, q, k, v, pad = _qkvp(q, k, v, pad)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=~pad[:, None, :])


def attention_additive(q, k, v, pad):
    torch, F, q, k, v, pad = _qkvp(q, k, v, pad)
    bias = torch.zeros(pad.shape, dtype=q.dtype).masked_fill(pad, float("-inf"))
    return F.scaled_dot_product_attention(q, k, v, attn_mask=bias[:, None, :])


def attention_by_hand(q, k, v, pad):
    torch, F, q, k, v, pad = _qkvp(q, k, v, pad)
    s = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
    s = s.masked_fill(pad[:, None, :], float("-inf"))
    w = torch.nan_to_num(F.softmax(s, dim=-1), nan=0.0)   # a fully padded item: zeros
    return w @ v


def attention_wrong_polarity(q, k, v, pad):
    torch, F, q, k, v, pad = _qkvp(q, k, v, pad)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=pad[:, None, :])


def attention_float_keep(q, k, v, pad):
    torch, F, q, k, v, pad = _qkvp(q, k, v, pad)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=(~pad[:, None, :]).to(q.dtype))


def attention_over_queries(q, k, v, pad):
    torch, F, q, k, v, pad = _qkvp(q, k, v, pad)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=~pad[:, :, None])


def attention_nan(q, k, v, pad):
    torch, F, q, k, v, pad = _qkvp(q, k, v, pad)
    s = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
    return F.softmax(s.masked_fill(pad[:, None, :], float("-inf")), dim=-1) @ v


def attention_big_negative(q, k, v, pad):
    torch, F, q, k, v, pad = _qkvp(q, k, v, pad)
    s = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
    return F.softmax(s.masked_fill(pad[:, None, :], -1e9), dim=-1) @ v


def attention_no_scale(q, k, v, pad):
    torch, F, q, k, v, pad = _qkvp(q, k, v, pad)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=~pad[:, None, :], scale=1.0)


def attention_float32(q, k, v, pad):
    torch, F, q, k, v, pad = _qkvp(q, k, v, pad)
    return F.scaled_dot_product_attention(q.float(), k.float(), v.float(), attn_mask=~pad[:, None, :])


def attention_no_mask(q, k, v, pad):
    torch, F, q, k, v, pad = _qkvp(q, k, v, pad)
    return F.scaled_dot_product_attention(q, k, v)


def attention_renamed(query, key, value):
    return attention_ok(query, key, value, np.zeros((len(query), len(key[0])), dtype=bool))


def attention_no_return(q, k, v, pad):
    attention_ok(q, k, v, pad)


def attention_as_text(q, k, v, pad):
    return repr(attention_ok(q, k, v, pad))


def attention_in_place(q, k, v, pad):
    torch, F, q, k, v, pad = _qkvp(q, k, v, pad)
    q /= q.shape[-1] ** 0.5                               # scales the caller's queries
    return F.scaled_dot_product_attention(q, k, v, attn_mask=~pad[:, None, :], scale=1.0)


# --- mistakes named for issue 16's mutation goals ----------------------------------------------
def softmax_log_probabilities(z):
    torch, F = _torch()
    return F.log_softmax(torch.as_tensor(z), dim=-1)


def softmax_sigmoid(z):
    torch, _ = _torch()
    return torch.sigmoid(torch.as_tensor(z))


def softmax_not_normalised(z):
    torch, _ = _torch()
    z = torch.as_tensor(z)
    return torch.exp(z - z.amax(dim=-1, keepdim=True))


def ce_nll_on_logits(z, y, label_smoothing=0.0):
    torch, F = _torch()
    return F.nll_loss(torch.as_tensor(z), torch.as_tensor(y))


def ce_no_reduction(z, y, label_smoothing=0.0):
    torch, F = _torch()
    return F.cross_entropy(torch.as_tensor(z), torch.as_tensor(y), label_smoothing=label_smoothing,
                           reduction="none")


def attention_zero_fill(q, k, v, pad):
    torch, F, q, k, v, pad = _qkvp(q, k, v, pad)
    s = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
    return F.softmax(s.masked_fill(pad[:, None, :], 0.0), dim=-1) @ v


def attention_scale_multiplied(q, k, v, pad):
    torch, F, q, k, v, pad = _qkvp(q, k, v, pad)
    s = q @ k.transpose(-2, -1) * q.shape[-1] ** 0.5
    w = torch.nan_to_num(F.softmax(s.masked_fill(pad[:, None, :], float("-inf")), dim=-1))
    return w @ v


def attention_scale_by_d(q, k, v, pad):
    torch, F, q, k, v, pad = _qkvp(q, k, v, pad)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=~pad[:, None, :], scale=1 / q.shape[-1])


WRONG = [
    ("torch_softmax_dim", "wrong dim", softmax_dim_zero),
    ("torch_softmax_dim", "wrong dim", softmax_dim_one),
    ("torch_softmax_dim", "no dim", softmax_no_dim),
    ("torch_softmax_dim", "no max trick", softmax_exp_no_shift),
    ("torch_softmax_dim", "computed in float32", softmax_float32),
    ("torch_softmax_dim", "modifies its input", softmax_in_place),
    ("torch_softmax_dim", "log-probabilities", softmax_log_probabilities),
    ("torch_softmax_dim", "sigmoid instead of softmax", softmax_sigmoid),
    ("torch_softmax_dim", "not normalised", softmax_not_normalised),
    ("torch_softmax_dim", "wrong signature", softmax_needs_dim),
    ("torch_softmax_dim", "no return", softmax_no_return),
    ("torch_softmax_dim", "result is not numbers", softmax_as_text),
    ("torch_cross_entropy_logits", "softmax before the loss", ce_after_softmax),
    ("torch_cross_entropy_logits", "log(softmax)", ce_log_softmax_by_log),
    ("torch_cross_entropy_logits", "log(softmax)", ce_nll_of_log),
    ("torch_cross_entropy_logits", "label smoothing ignored", ce_drops_smoothing),
    ("torch_cross_entropy_logits", "summed, not averaged", ce_sum),
    ("torch_cross_entropy_logits", "wrong dim", ce_dim_zero),
    ("torch_cross_entropy_logits", "computed in float32", ce_float32),
    ("torch_cross_entropy_logits", "modifies its input", ce_in_place),
    ("torch_cross_entropy_logits", "nll_loss on logits", ce_nll_on_logits),
    ("torch_cross_entropy_logits", "no reduction", ce_no_reduction),
    ("torch_cross_entropy_logits", "wrong signature", ce_renamed),
    ("torch_cross_entropy_logits", "no return", ce_no_return),
    ("torch_cross_entropy_logits", "result is not numbers", ce_as_text),
    ("torch_masked_attention", "mask of the wrong polarity", attention_wrong_polarity),
    ("torch_masked_attention", "float 0/1 mask", attention_float_keep),
    ("torch_masked_attention", "mask not used", attention_no_mask),
    ("torch_masked_attention", "computed in float32", attention_float32),
    ("torch_masked_attention", "mask over the queries", attention_over_queries),
    ("torch_masked_attention", "fully masked row gives nan", attention_nan),
    ("torch_masked_attention", "fully masked row is uniform", attention_big_negative),
    ("torch_masked_attention", "no scale", attention_no_scale),
    ("torch_masked_attention", "modifies its input", attention_in_place),
    ("torch_masked_attention", "mask filled with 0", attention_zero_fill),
    ("torch_masked_attention", "scale multiplied", attention_scale_multiplied),
    ("torch_masked_attention", "scale by d", attention_scale_by_d),
    ("torch_masked_attention", "wrong signature", attention_renamed),
    ("torch_masked_attention", "no return", attention_no_return),
    ("torch_masked_attention", "result is not numbers", attention_as_text),
]

RIGHT = [
    ("torch_softmax_dim", softmax_dim_ok),
    ("torch_softmax_dim", softmax_dim_tensor_method),
    ("torch_softmax_dim", softmax_dim_by_hand),
    ("torch_softmax_dim", softmax_dim_via_log),
    ("torch_cross_entropy_logits", ce_ok),
    ("torch_cross_entropy_logits", ce_module),
    ("torch_cross_entropy_logits", ce_by_hand),
    ("torch_cross_entropy_logits", ce_requires_grad),
    ("torch_masked_attention", attention_ok),
    ("torch_masked_attention", attention_additive),
    ("torch_masked_attention", attention_by_hand),
]

if importlib.util.find_spec("torch") is None:       # nothing to prove without torch
    WRONG, RIGHT = [], []
