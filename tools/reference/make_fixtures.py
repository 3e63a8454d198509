#!/usr/bin/env python3
"""Generate PyTorch reference fixtures for the TorchSharp interop tests.

Run from the repository root:
    /usr/bin/python3 tools/reference/make_fixtures.py

For each fixture, writes tests/ArchGen.Interop.Tests/Fixtures/<name>/:
  weights.pt          torch.save(model.state_dict()) of the randomized model
  weights.safetensors only if the `safetensors` package is importable
  io.pt               dict: input, logits_eval, labels, logits_train, loss
  after_step.pt       full state_dict after one SGD step (train-mode forward,
                      so BN running stats and num_batches_tracked are updated)
  meta.json           configuration, seeds, versions, summary numbers

Everything is seeded and single-threaded, so reruns reproduce the files
byte-for-byte on the same torch build.
"""
import collections
import hashlib
import json
import os
import subprocess
import sys
import types

import torch
import torch.nn as nn
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cifar_mobilenetv2 import DEFAULT_CFG, MobileNetV2 as CifarMobileNetV2, count_params  # noqa: E402
import counts  # noqa: E402
import families  # noqa: E402
from torchvision.ops import StochasticDepth  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT_ROOT = os.path.join(REPO, "tests", "ArchGen.Interop.Tests", "Fixtures")

LR = 0.1

try:
    import safetensors.torch as st  # noqa: F401
    HAVE_SAFETENSORS = True
except ImportError:
    HAVE_SAFETENSORS = False

Fixture = collections.namedtuple(
    "Fixture", "name flavor width size in_channels num_classes batch init_seed config linear_bottleneck shortcut",
    defaults=(None, True, "bottleneck"))

# Small tables for the ablation fixtures (MobileNetV2 Figure 6): each has stride-1 repeats (identity residuals) and,
# for the CIFAR layout, a first block whose width changes (a 1x1 shortcut); three stride-2 rows bring 32 to the 4x4
# map the CIFAR model's avg_pool2d(4) expects.
PAPER_SMALL = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 2, 2]]
CIFAR_SMALL = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 2, 2), (6, 48, 1, 2))
# For the shortcut between expansions: a row of three blocks, so one block both takes and passes the expanded tensor
# (Paper at width 0.35: blocks 3 -> 4 -> 5 join; CIFAR: blocks 2 -> 3 -> 4 and 5 -> 6).
PAPER_WIDE = [[1, 16, 1, 1], [6, 24, 3, 2], [6, 32, 2, 2]]
CIFAR_WIDE = ((1, 16, 1, 1), (6, 24, 3, 2), (6, 32, 2, 2), (6, 48, 1, 2))


def family(name, config_name, batch, init_seed):
    """A MobileNetV3 or EfficientNet fixture built from one of counts.py's configurations (ArchGen-style tables)."""
    cfg = next(c for c in counts.CONFIGS if c.name == config_name)
    return Fixture(name, cfg.family, cfg.width, cfg.size, cfg.in_channels, cfg.classes, batch, init_seed, cfg)


FIXTURES = [
    Fixture("paper_w1.0_224_c10", "paper", 1.0, 224, 3, 10, 2, 1000),
    Fixture("paper_w0.5_160_c10", "paper", 0.5, 160, 3, 10, 2, 1001),
    Fixture("cifar_32_c10", "cifar", None, 32, 3, 10, 4, 2000),
    Fixture("cifar_1ch_32_c10", "cifar", None, 32, 1, 10, 4, 2001),
    family("v3_small_w0.5_96_c7", "V3SmallW05At96C7", 2, 3000),
    family("v3_custom_1ch_80_c9", "V3Custom1ChAt80C9", 2, 3001),
    family("effnet_b0_w0.5_d0.5_64_c5", "B0W05D05At64C5", 2, 4000),
    family("effnet_custom_1ch_48_c6", "EffCustom1ChAt48C6", 3, 4001),
    Fixture("paper_small_nonlinear_w0.35_64_c5", "paper", 0.35, 64, 3, 5, 2, 5000, PAPER_SMALL, linear_bottleneck=False),
    Fixture("paper_small_noshortcut_w0.35_64_c5", "paper", 0.35, 64, 3, 5, 2, 5001, PAPER_SMALL, shortcut="none"),
    Fixture("paper_small_expansion_w0.35_64_c5", "paper", 0.35, 64, 3, 5, 2, 5004, PAPER_WIDE, shortcut="expansion"),
    Fixture("cifar_small_nonlinear_32_c10", "cifar", None, 32, 3, 10, 4, 5002, CIFAR_SMALL, linear_bottleneck=False),
    Fixture("cifar_small_noshortcut_32_c10", "cifar", None, 32, 1, 10, 4, 5003, CIFAR_SMALL, shortcut="none"),
    Fixture("cifar_small_expansion_32_c10", "cifar", None, 32, 3, 10, 4, 5005, CIFAR_WIDE, shortcut="expansion"),
]


def build(fx):
    if fx.flavor in ("v3", "effnet"):
        return families.build(fx.config)
    if fx.flavor == "paper":
        # torchvision 0.14: mobilenet_v2(*, weights=None, progress=True, **kwargs);
        # width_mult / num_classes / inverted_residual_setting go through **kwargs to MobileNetV2.__init__.
        assert fx.in_channels == 3, "torchvision mobilenet_v2 has a fixed 3-channel stem"
        model = torchvision.models.mobilenet_v2(
            weights=None, width_mult=fx.width, num_classes=fx.num_classes, inverted_residual_setting=fx.config)
        return ablate_paper(model, fx.linear_bottleneck, fx.shortcut)
    return CifarMobileNetV2(num_classes=fx.num_classes, in_channels=fx.in_channels, cfg=fx.config or DEFAULT_CFG,
                            linear_bottleneck=fx.linear_bottleneck, shortcut=fx.shortcut)


def original(fx):
    ablations = ("" if fx.linear_bottleneck else ", ReLU6/ReLU after each block's projection (linear_bottleneck=False)") + \
        {"bottleneck": "", "none": ", no residual connections (shortcut='none')",
         "expansion": ", residuals between consecutive blocks' expanded tensors instead of their bottlenecks (shortcut='expansion')"}[fx.shortcut]
    return {"paper": "torchvision.models.mobilenet_v2",
            "cifar": "kuangliu/pytorch-cifar MobileNetV2 (tools/reference/cifar_mobilenetv2.py)",
            "v3": "torchvision.models.mobilenetv3.MobileNetV3 from configuration %s of tools/reference/counts.py",
            "effnet": "torchvision.models.efficientnet.EfficientNet from configuration %s of tools/reference/counts.py",
            }[fx.flavor].replace("%s", fx.config.name if fx.flavor in ("v3", "effnet") else "") + ablations


def ablate_paper(model, linear_bottleneck, shortcut):
    """torchvision's mobilenet_v2 with the paper's ablations (Figure 6): ReLU6 appended to each block's `conv` after the
    projection's BatchNorm (before the residual add); no residual connections; or residuals between expansions (see
    expansion_forward)."""
    for block in model.features:
        if isinstance(block, torchvision.models.mobilenetv2.InvertedResidual):
            if not linear_bottleneck:
                block.conv.append(nn.ReLU6(inplace=False))
            if shortcut != "bottleneck":
                block.use_res_connect = False
    if shortcut == "expansion":
        model.forward = types.MethodType(expansion_forward, model)
    return model


def expansion_forward(model, x):
    """torchvision's MobileNetV2.forward with the paper's "shortcut between expansions": where a block that expands
    (t > 1: its `conv` starts with the expansion's Conv-BN-ReLU6) follows a stride-1 block whose expansion has its
    width, the earlier block's expanded tensor is added to this block's (after the ReLU6s); the rest of `conv` then
    runs on the sum, which the next block may take in turn."""
    InvertedResidual = torchvision.models.mobilenetv2.InvertedResidual
    expanded, before = None, None  # the previous block's expanded tensor, and that block (when it expands)
    for layer in model.features:
        if not isinstance(layer, InvertedResidual) or len(layer.conv) < 4:  # the stem, the head, a t = 1 block
            x, expanded, before = layer(x), None, None
            continue
        e = layer.conv[0](x)
        if before is not None and before.stride == 1 and before.conv[0].out_channels == layer.conv[0].out_channels:
            e = e + expanded
        x, expanded, before = layer.conv[1:](e), e, layer
    x = nn.functional.adaptive_avg_pool2d(x, (1, 1))
    return model.classifier(torch.flatten(x, 1))


@torch.no_grad()
def randomize(model, gen):
    """Randomize what default init leaves trivial, so a mis-mapped tensor shows.

    Conv weights keep the (seeded) default init of each original. BN affine
    params and running stats, the biases of convolutions that have one (the
    squeeze-and-excitation layers) and the classifier weight and bias, are
    redrawn in module order from `gen`.
    """
    for m in model.modules():
        if isinstance(m, nn.Conv2d) and m.bias is not None:
            m.bias.copy_(torch.empty_like(m.bias).normal_(0.0, 0.1, generator=gen))
        if isinstance(m, nn.BatchNorm2d):
            m.weight.copy_(torch.empty_like(m.weight).uniform_(0.5, 1.5, generator=gen))
            m.bias.copy_(torch.empty_like(m.bias).normal_(0.0, 0.1, generator=gen))
            m.running_mean.copy_(torch.empty_like(m.running_mean).normal_(0.0, 0.1, generator=gen))
            m.running_var.copy_(torch.empty_like(m.running_var).uniform_(0.5, 1.5, generator=gen))
        elif isinstance(m, nn.Linear):
            # weight N(0, 0.05) gives O(1) logits (the originals' inits give ~0.2,
            # so the loss would sit at ln(num_classes) whatever the features);
            # small bias exercises the bias mapping without dominating the logits
            m.weight.copy_(torch.empty_like(m.weight).normal_(0.0, 0.05, generator=gen))
            m.bias.copy_(torch.empty_like(m.bias).normal_(0.0, 0.01, generator=gen))


def set_train_keep_dropout_eval(model):
    """Train mode for BatchNorm; dropout and stochastic depth (random, so not comparable across frameworks) off."""
    model.train()
    n = 0
    for m in model.modules():
        if isinstance(m, (nn.modules.dropout._DropoutNd, StochasticDepth)):
            m.eval()
            n += 1
    return n


def clone_sd(model):
    return collections.OrderedDict((k, v.detach().clone()) for k, v in model.state_dict().items())


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def debian_version(pkg):
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg],
                              capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return None


def make(fx):
    out = os.path.join(OUT_ROOT, fx.name)
    os.makedirs(out, exist_ok=True)
    bn_seed, data_seed = fx.init_seed + 1, fx.init_seed + 2

    torch.manual_seed(fx.init_seed)
    model = build(fx)
    randomize(model, torch.Generator().manual_seed(bn_seed))
    n_params = count_params(model)

    g = torch.Generator().manual_seed(data_seed)
    x = torch.randn(fx.batch, fx.in_channels, fx.size, fx.size, generator=g)
    labels = torch.randint(0, fx.num_classes, (fx.batch,), generator=g, dtype=torch.int64)

    weights = clone_sd(model)
    torch.save(weights, os.path.join(out, "weights.pt"))
    if HAVE_SAFETENSORS:
        st.save_file({k: v.contiguous() for k, v in weights.items()},
                     os.path.join(out, "weights.safetensors"))

    model.eval()
    with torch.no_grad():
        logits_eval = model(x)
        bias = [m for m in model.modules() if isinstance(m, nn.Linear)][-1].bias
        feature_part = (logits_eval - bias).abs().max().item()

    # The training step runs in float64: one SGD step through train-mode BatchNorm on a batch of 2-4 images is
    # ill-conditioned enough that float32 PyTorch itself differs from float64 by ~1e-3 (relative) in the early
    # layers' updates, so a float32 comparison could not tell a bug from rounding. The C# test steps in float64 too.
    model = model.double()
    n_dropout = set_train_keep_dropout_eval(model)
    logits_train, loss, after = train_step(model, x, labels, weights)
    torch.save(after, os.path.join(out, "after_step.pt"))
    model = model.float()

    io = collections.OrderedDict([
        ("input", x.contiguous()),
        ("logits_eval", logits_eval.detach().contiguous()),
        ("labels", labels),
        ("logits_train", logits_train.detach().contiguous()),
        ("loss", loss.detach().reshape(())),
    ])
    torch.save(io, os.path.join(out, "io.pt"))

    max_param_delta = max((after[k] - weights[k]).abs().max().item()
                          for k, _ in model.named_parameters())
    files = ["weights.pt"] + (["weights.safetensors"] if HAVE_SAFETENSORS else []) + \
        ["io.pt", "after_step.pt"]
    verify(fx, out, x, labels, logits_eval, logits_train, loss)
    meta = collections.OrderedDict([
        ("name", fx.name),
        ("flavor", fx.flavor),
        ("original", original(fx)),
        ("table", [list(row) for row in fx.config] if fx.flavor in ("paper", "cifar") and fx.config else None),
        ("linear_bottleneck", fx.linear_bottleneck),
        ("shortcut", fx.shortcut),
        ("width_mult", fx.width),
        ("input_size", [fx.size, fx.size]),
        ("in_channels", fx.in_channels),
        ("num_classes", fx.num_classes),
        ("batch", fx.batch),
        ("dtype", "float32"),
        ("seeds", {"init": fx.init_seed, "bn_and_bias": bn_seed, "data": data_seed}),
        ("param_count", n_params),
        ("state_dict_keys", len(weights)),
        ("randomization", {
            "conv.weight": "default init of the original, after torch.manual_seed(init)",
            "conv.bias (squeeze-and-excitation)": "N(0, 0.1)",
            "linear.weight": "N(0, 0.05)",
            "bn.weight": "U(0.5, 1.5)", "bn.bias": "N(0, 0.1)",
            "bn.running_mean": "N(0, 0.1)", "bn.running_var": "U(0.5, 1.5)",
            "bn.num_batches_tracked": 0, "linear.bias": "N(0, 0.01)",
            "input": "N(0, 1)", "labels": "U{0..num_classes-1}"}),
        ("train_step", {
            "optimizer": "SGD", "lr": LR, "momentum": 0.0, "weight_decay": 0.0,
            "loss": "CrossEntropyLoss(mean)", "mode": "train (BatchNorm uses batch stats, momentum 0.1)",
            "precision": "float64 (model.double()); logits_train, loss and after_step.pt stored as float32",
            "dropout": "dropout and stochastic-depth modules kept in eval mode (%d module(s))" % n_dropout,
            "logits_train": "output of the train-mode forward before the step"}),
        ("loss", loss.item()),
        ("max_abs_logit_eval", logits_eval.abs().max().item()),
        ("max_abs_logit_eval_minus_bias", feature_part),
        ("max_abs_logit_train", logits_train.abs().max().item()),
        ("max_abs_param_delta", max_param_delta),
        ("torch", torch.__version__),
        ("torchvision", torchvision.__version__),
        ("debian_packages", {"python3-torch": debian_version("python3-torch"),
                             "python3-torchvision": debian_version("python3-torchvision")}),
        ("safetensors", HAVE_SAFETENSORS),
        ("files", collections.OrderedDict(
            (f, {"bytes": os.path.getsize(os.path.join(out, f)),
                 "sha256": sha256(os.path.join(out, f))}) for f in files)),
    ])
    with open(os.path.join(out, "meta.json"), "w", newline="\n") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    total = sum(v["bytes"] for v in meta["files"].values())
    print("%-20s params=%9s keys=%d loss=%.4f max|logit|=%.3f (w/o bias %.3f) %.1f MB"
          % (fx.name, format(n_params, ","), len(weights), loss.item(),
             meta["max_abs_logit_eval"], feature_part, total / 2**20))


def train_step(model, x, labels, like):
    """One SGD step in float64; returns float32 logits and loss and the state_dict in the dtypes of `like`."""
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.0, weight_decay=0.0)
    opt.zero_grad()
    logits = model(x.double())
    loss = nn.CrossEntropyLoss()(logits, labels)
    loss.backward()
    opt.step()
    after = collections.OrderedDict((k, v.detach().to(like[k].dtype).clone()) for k, v in model.state_dict().items())
    return logits.detach().float(), loss.detach().float(), after


def verify(fx, out, x, labels, logits_eval, logits_train, loss):
    """Reload the written files into a fresh model and replay; must match exactly."""
    m = build(fx)
    m.load_state_dict(torch.load(os.path.join(out, "weights.pt")))
    m.eval()
    with torch.no_grad():
        assert torch.equal(m(x), logits_eval), "eval replay mismatch"
    m = m.double()
    set_train_keep_dropout_eval(m)
    lt, l, got = train_step(m, x, labels, torch.load(os.path.join(out, "weights.pt")))
    assert torch.equal(lt, logits_train) and torch.equal(l, loss), "train replay mismatch"
    ref = torch.load(os.path.join(out, "after_step.pt"))
    assert list(ref) == list(got)
    for k in ref:
        assert torch.equal(ref[k], got[k]), "after_step mismatch at " + k


def sanity():
    torch.manual_seed(0)
    n = count_params(torchvision.models.mobilenet_v2(weights=None))
    assert n == 3504872, n
    n = count_params(CifarMobileNetV2(num_classes=10))
    assert n == 2296922, n
    print("sanity: torchvision mobilenet_v2(1000)=3,504,872  cifar MobileNetV2(10)=2,296,922  OK")


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    sanity()
    if not HAVE_SAFETENSORS:
        print("note: python package 'safetensors' not available; weights.safetensors skipped")
    os.makedirs(OUT_ROOT, exist_ok=True)
    # Optional arguments: the names of the fixtures to (re)make; none makes all.
    wanted = set(sys.argv[1:])
    unknown = wanted - {fx.name for fx in FIXTURES}
    assert not unknown, "unknown fixtures: %s" % ", ".join(sorted(unknown))
    for fx in FIXTURES:
        if not wanted or fx.name in wanted:
            make(fx)


if __name__ == "__main__":
    main()
