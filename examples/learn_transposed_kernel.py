"""The seed's closing experiment: a transposed convolution learns its kernel from examples.

    python examples/learn_transposed_kernel.py

The seed note says that, unlike deconvolution (which inverts a known filter ``f``), a transposed
convolution *learns* a new filter ``f'``: knowing inputs ``g`` and outputs ``h = f'^T * g``, the
layer's weights are optimised until its outputs match. Here the outputs are made by a hidden
3x3 kernel ``f`` with stride 2 (the seed's example), a ``ConvTranspose`` layer starts from
PyTorch's random initialisation, and L-BFGS in float64 recovers ``f`` far below 1e-4 (the
least-squares problem is linear in ``f'`` and, with a few random inputs, has a unique solution).
"""

from __future__ import annotations

import torch

from upsampling.nn.conv_transpose import ConvTranspose2d


def learn_kernel(
    f: torch.Tensor, stride: int = 2, samples: int = 4, size: int = 4, seed: int = 0
) -> tuple[torch.Tensor, list[float]]:
    """Fit a ``ConvTranspose2d`` to ``(g, h = conv_transpose(g, f))`` pairs; return the learnt
    kernel and the loss after each L-BFGS step."""
    generator = torch.Generator().manual_seed(seed)
    c_in, c_out, k = f.shape[0], f.shape[1], f.shape[-1]
    g = torch.randn(samples, c_in, size, size, generator=generator, dtype=torch.float64)
    with torch.no_grad():
        h = torch.nn.functional.conv_transpose2d(g, f, stride=stride)

    torch.manual_seed(seed)
    layer = ConvTranspose2d(c_in, c_out, k, stride=stride, bias=False, dtype=torch.float64)
    optimiser = torch.optim.LBFGS(
        layer.parameters(),
        lr=1,
        max_iter=50,
        tolerance_grad=1e-14,
        tolerance_change=1e-16,
        line_search_fn="strong_wolfe",
    )
    losses = []

    def closure():
        optimiser.zero_grad()
        loss = torch.mean((layer(g) - h) ** 2)
        loss.backward()
        return loss

    for _ in range(5):
        losses.append(optimiser.step(closure).item())
    return layer.weight.detach(), losses


def main() -> None:
    torch.set_printoptions(precision=6, sci_mode=False)
    f = torch.tensor([[[[1.0, 2.0, 1.0], [0.0, -1.0, 0.5], [-2.0, 0.0, 3.0]]]], dtype=torch.float64)
    learnt, losses = learn_kernel(f)
    print("hidden kernel f:\n", f[0, 0])
    print("learnt kernel f':\n", learnt[0, 0])
    print("loss before each L-BFGS step:", ", ".join(f"{v:.2e}" for v in losses))
    print(f"max |f' - f| = {float((learnt - f).abs().max()):.2e}")


if __name__ == "__main__":
    main()
