"""PixelCNN and its masked convolution, tested with course_lib.checks: the autoregressive property
in raster and colour order, normalization by enumeration, and sampler agreement on tiny images."""
import numpy as np
import pytest
import torch

from course_lib.checks import (all_binary_vectors, all_vectors, binary_rows_to_index, check_autoregressive,
                               check_normalization, check_sampler, dependency_map)
from course_lib.models.pixelcnn import MaskedConv2d, PixelCNN, ResidualPixelCNN, causal_mask, image_ordering
from course_lib.receptive_field import pixelcnn_receptive_field


def _output_sites(C, V, H, W):
    """Flattened logits (C, V, H, W) -> the input index (C, H, W) each one predicts."""
    c, _, p = np.meshgrid(np.arange(C), np.arange(V), np.arange(H * W), indexing="ij")
    return (c * H * W + p).reshape(-1)


def _dep(model, C, H, W, seed=0):
    x = torch.rand(8, C, H, W, generator=torch.Generator().manual_seed(seed)) * (model.num_values - 1)
    return dependency_map(model, x, method="gradient")


def _sharpen(model, scale=3.0, seed=0):
    """Larger random weights so that a tiny model's distribution is far from uniform."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * scale / max(1, p[0].numel()) ** 0.5)
    return model


# ----------------------------------------------------------------------------- masks


def test_causal_mask_types_a_and_b():
    a = causal_mask(3, "A")[0, 0]
    b = causal_mask(3, "B")[0, 0]
    assert torch.equal(a, torch.tensor([[1., 1, 1], [1, 0, 0], [0, 0, 0]]))
    assert torch.equal(b, torch.tensor([[1., 1, 1], [1, 1, 0], [0, 0, 0]]))
    m5 = causal_mask(5, "B")[0, 0]
    assert m5[:2].all() and m5[2, :3].all() and not m5[2, 3:].any() and not m5[3:].any()


def test_causal_mask_colour_groups_at_the_centre():
    a = causal_mask(3, "A", in_channels=3, out_channels=6, color_channels=3)
    b = causal_mask(3, "B", in_channels=3, out_channels=6, color_channels=3)
    # output channels 0,1 are R, 2,3 G, 4,5 B; input channels R, G, B
    assert torch.equal(a[:, :, 1, 1], torch.tensor([[0., 0, 0], [0, 0, 0], [1, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 0]]))
    assert torch.equal(b[:, :, 1, 1], torch.tensor([[1., 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 0], [1, 1, 1], [1, 1, 1]]))
    # away from the centre, colour plays no role
    assert a[:, :, 0].all() and a[:, :, 1, 0].all() and not a[:, :, 2].any() and not a[:, :, 1, 2].any()
    with pytest.raises(ValueError):
        causal_mask(3, "A", in_channels=4, out_channels=6, color_channels=3)
    with pytest.raises(ValueError):
        causal_mask(4, "A")


def test_masked_conv_same_size_and_mask_applied():
    conv = MaskedConv2d(1, 1, 3, "A")
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 2, 2] = 1.0  # a pixel influences outputs after it only
    with torch.no_grad():
        conv.weight.fill_(1.0)
        conv.bias.zero_()
        y = conv(x)[0, 0]
    assert y.shape == (5, 5)
    assert y[2, 2] == 0 and y[2, 3] == 1 and y[3, 1] == 1 and y[3, 2] == 1 and y[3, 3] == 1
    assert y[2, 1] == 0 and y[1, 2] == 0


@pytest.mark.parametrize("kernel,mask_type,groups", [(1, "B", 1), (3, "A", 1), (5, "B", 1), (7, "A", 3), (5, "B", 3)])
def test_masked_conv_equals_the_full_masked_convolution(kernel, mask_type, groups):
    # forward skips the all-zero rows below the centre; the result must be the plain k x k one
    torch.manual_seed(0)
    conv = MaskedConv2d(6, 9, kernel, mask_type, color_channels=groups)
    x = torch.randn(2, 6, 7, 8)
    full = torch.nn.functional.conv2d(x, conv.weight * conv.mask, conv.bias, padding=kernel // 2)
    assert torch.allclose(conv(x), full, atol=1e-5)


def test_mask_holds_after_optimiser_steps_and_load_state_dict():
    torch.manual_seed(0)
    model = PixelCNN(1, 4, 2, 3, image_size=4)
    opt = torch.optim.SGD(model.parameters(), lr=10.0, weight_decay=0.1)
    x = torch.randint(0, 2, (8, 1, 4, 4))
    for _ in range(3):
        loss = -model.log_prob(x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert check_autoregressive(_dep(model, 1, 4, 4)).passed
    # a state dict full of ones (every tap "connected") must not open the mask
    state = {k: torch.ones_like(v) for k, v in model.state_dict().items()}
    assert not any("mask" in k for k in state), "the mask must not travel in the state dict"
    model.load_state_dict(state)
    assert torch.equal(model.convs[0].mask, causal_mask(3, "A", 1, 4))
    assert check_autoregressive(_dep(model, 1, 4, 4)).passed


# ----------------------------------------------------------------------------- autoregressive property


@pytest.mark.parametrize("layers,kernel", [(1, 3), (3, 3), (2, 5)])
def test_pixelcnn_is_autoregressive_in_raster_order(layers, kernel):
    torch.manual_seed(layers)
    model = PixelCNN(1, 6, layers, kernel, num_values=2, image_size=5)
    dep = _dep(model, 1, 5, 5)
    result = check_autoregressive(dep, output_site=_output_sites(1, 2, 5, 5))
    assert result.passed, result.message
    # and it is not trivially autoregressive: the field is exactly the mask geometry's
    for r, c in [(4, 4), (2, 3), (0, 1)]:
        seen = dep[r * 5 + c].reshape(5, 5)
        assert np.array_equal(seen, pixelcnn_receptive_field(layers, kernel, 5, 5, r, c))


@pytest.mark.parametrize("layers,kernel,first", [(3, 3, 5), (2, 3, 7), (4, 3, None)])
def test_residual_pixelcnn_is_autoregressive_with_the_predicted_field(layers, kernel, first):
    """The paper's form (a large type-A first layer, then residual blocks): still autoregressive, and
    it sees exactly what the plain stack of the same kernels would see, residual paths included."""
    torch.manual_seed(layers)
    model = ResidualPixelCNN(1, 8, layers, kernel, num_values=2, image_size=9, first_kernel_size=first)
    dep = _dep(model, 1, 9, 9)
    result = check_autoregressive(dep, output_site=_output_sites(1, 2, 9, 9))
    assert result.passed, result.message
    for r, c in [(8, 8), (4, 4), (5, 1), (0, 3)]:
        expected = pixelcnn_receptive_field(layers, kernel, 9, 9, r, c, first_kernel_size=first)
        assert np.array_equal(dep[r * 9 + c].reshape(9, 9), expected), (r, c)
    if first is not None:  # the larger first layer really reaches further than a k x k one would
        assert (pixelcnn_receptive_field(layers, kernel, 9, 9, 8, 4, first_kernel_size=first)
                & ~pixelcnn_receptive_field(layers, kernel, 9, 9, 8, 4)).any()


def test_residual_colour_pixelcnn_follows_pixel_then_channel_order():
    torch.manual_seed(0)
    C, H, W = 3, 3, 3
    model = ResidualPixelCNN(C, 12, 3, 3, num_values=2, color_channels=3, image_size=3, first_kernel_size=5)
    dep = _dep(model, C, H, W)
    result = check_autoregressive(dep, ordering=image_ordering(C, H, W), output_site=_output_sites(C, 2, H, W))
    assert result.passed, result.message
    with pytest.raises(ValueError, match="divisible by color_channels"):
        ResidualPixelCNN(C, 9, 3, 3, color_channels=3)  # 4 channels inside cannot be split R, G, B


def test_first_layer_of_type_b_breaks_the_property():
    """A planted bug: type B in the first layer lets each output see its own pixel."""
    torch.manual_seed(0)
    model = PixelCNN(1, 4, 2, 3, image_size=4)
    model.convs[0].mask = causal_mask(3, "B", 1, 4)
    result = check_autoregressive(_dep(model, 1, 4, 4))
    assert not result.passed
    assert "depends on" in result.message


def test_colour_pixelcnn_follows_pixel_then_channel_order():
    torch.manual_seed(0)
    C, H, W, V = 3, 3, 3, 4
    model = PixelCNN(C, 12, 2, 3, num_values=V, color_channels=3, image_size=3)
    dep = _dep(model, C, H, W)
    sites = _output_sites(C, V, H, W)
    order = image_ordering(C, H, W)
    result = check_autoregressive(dep, ordering=order, output_site=sites)
    assert result.passed, result.message
    # at the centre pixel (1, 1): G sees R, B sees R and G, R sees neither
    p = 1 * W + 1
    row = lambda c: dep[(c * V) * H * W + p].reshape(C, H * W)[:, p]  # noqa: E731
    assert row(0).tolist() == [False, False, False]
    assert row(1).tolist() == [True, False, False]
    assert row(2).tolist() == [True, True, False]
    # in plain raster order (ignoring colours), the channel ordering would be violated
    assert not check_autoregressive(dep, ordering=list(range(C * H * W)), output_site=sites).passed


# ----------------------------------------------------------------------------- normalization


@pytest.mark.parametrize("make", [PixelCNN, lambda *a, **k: ResidualPixelCNN(*a, first_kernel_size=5, **k)])
def test_normalization_binary_3x3(make):
    model = _sharpen(make(1, 6, 2, 3, image_size=3))
    support = all_binary_vectors(9).reshape(-1, 1, 3, 3)
    result = check_normalization(model.log_prob, support)
    assert result.passed, result.message


def test_normalization_colour_and_multivalue():
    colour = _sharpen(PixelCNN(3, 6, 2, 3, num_values=2, color_channels=3, image_size=2))
    support = all_binary_vectors(12).reshape(-1, 3, 2, 2)
    assert check_normalization(colour.log_prob, support).passed
    grey = _sharpen(PixelCNN(1, 4, 2, 3, num_values=3, image_size=2))
    assert check_normalization(grey.log_prob, all_vectors(3, 4).reshape(-1, 1, 2, 2)).passed


def test_normalization_fails_for_unnormalized_density():
    model = _sharpen(PixelCNN(1, 6, 2, 3, image_size=2))
    support = all_binary_vectors(4).reshape(-1, 1, 2, 2)
    assert not check_normalization(lambda x: model.log_prob(x) + 0.1, support).passed


# ----------------------------------------------------------------------------- sampler


def _exact_probs(model, H, W):
    support = all_binary_vectors(H * W)
    with torch.no_grad():
        return model.log_prob(support.reshape(-1, 1, H, W)).exp().numpy()


@pytest.mark.parametrize("make", [PixelCNN, lambda *a, **k: ResidualPixelCNN(*a, first_kernel_size=5, **k)])
def test_sampler_agrees_with_density_on_2x2(make):
    model = _sharpen(make(1, 6, 2, 3, image_size=2), seed=1)
    probs = _exact_probs(model, 2, 2)
    samples = model.sample(3000, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (3000, 1, 2, 2) and samples.dtype == torch.long
    assert model.last_sample_passes == 4
    result = check_sampler(binary_rows_to_index(samples.reshape(3000, -1).numpy()), probs)
    assert result.passed, result.message


def test_a_sampler_that_ignores_the_order_fails():
    """All pixels drawn at once from one pass over a blank image: the check must catch it."""
    model = _sharpen(PixelCNN(1, 6, 2, 3, image_size=2), seed=1)
    probs = _exact_probs(model, 2, 2)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        p1 = torch.softmax(model(torch.zeros(1, 1, 2, 2)), dim=2)[0, 0, 1].reshape(-1)
    samples = (torch.rand(3000, 4, generator=gen) < p1).long()
    assert not check_sampler(binary_rows_to_index(samples.numpy()), probs).passed


def test_colour_sampler_shapes_and_range():
    model = PixelCNN(3, 6, 2, 3, num_values=4, color_channels=3, image_size=(2, 3))
    s = model.sample(5, generator=torch.Generator().manual_seed(0))
    assert s.shape == (5, 3, 2, 3) and int(s.min()) >= 0 and int(s.max()) <= 3
    assert model.last_sample_passes == 2 * 3 * 3


def test_log_prob_accepts_grey_images_without_channel_axis():
    model = PixelCNN(1, 4, 2, 3, image_size=4)
    x = torch.randint(0, 2, (5, 4, 4))
    assert torch.allclose(model.log_prob(x), model.log_prob(x[:, None]))
    assert model.log_prob(x).shape == (5,)
    assert (model.log_prob(x) < 0).all()
