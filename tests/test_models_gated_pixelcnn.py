"""Gated PixelCNN, tested with course_lib.checks: autoregressive in raster (and colour) order, no
blind spot with enough layers, normalization by enumeration, sampler agreement, class conditioning."""
import numpy as np
import pytest
import torch

import course_lib.models.gated_pixelcnn as gated_module
from course_lib.checks import (all_binary_vectors, binary_rows_to_index, check_autoregressive, check_normalization,
                               check_sampler, dependency_map)
from course_lib.models.gated_pixelcnn import GatedPixelCNN, down_shift
from course_lib.models.pixelcnn import image_ordering
from course_lib.receptive_field import earlier_pixels, gated_pixelcnn_receptive_field


def _output_sites(C, V, H, W):
    c, _, p = np.meshgrid(np.arange(C), np.arange(V), np.arange(H * W), indexing="ij")
    return (c * H * W + p).reshape(-1)


def _dep(model, C, H, W, seed=0, y=None, first_value_only=False):
    x = torch.rand(6, C, H, W, generator=torch.Generator().manual_seed(seed)) * (model.num_values - 1)
    if first_value_only:
        return dependency_map(lambda z: model(z, y)[:, :, 0], x, method="gradient")
    return dependency_map(lambda z: model(z, y), x, method="gradient")


def _sharpen(model, scale=3.0, seed=0):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * scale / max(1, p[0].numel()) ** 0.5)
    return model


def test_down_shift():
    x = torch.arange(9.).reshape(1, 1, 3, 3)
    assert torch.equal(down_shift(x)[0, 0], torch.tensor([[0., 0, 0], [0, 1, 2], [3, 4, 5]]))


@pytest.mark.parametrize("layers,kernel", [(1, 3), (3, 3), (2, 5)])
def test_gated_is_autoregressive_and_matches_its_geometry(layers, kernel):
    torch.manual_seed(layers)
    model = GatedPixelCNN(1, 8, layers, kernel, image_size=5)
    dep = _dep(model, 1, 5, 5)
    result = check_autoregressive(dep, output_site=_output_sites(1, 2, 5, 5))
    assert result.passed, result.message
    for r, c in [(4, 4), (2, 0), (1, 3)]:
        assert np.array_equal(dep[r * 5 + c].reshape(5, 5), gated_pixelcnn_receptive_field(layers, kernel, 5, 5, r, c))


def test_no_blind_spot_with_enough_layers():
    """With 7 layers of 3x3 on an 8x8 image every output sees every earlier pixel, exactly."""
    torch.manual_seed(0)
    H = W = 8
    model = GatedPixelCNN(1, 8, 7, 3, image_size=8)
    dep = _dep(model, 1, H, W, first_value_only=True)
    expected = np.stack([earlier_pixels(H, W, p // W, p % W).reshape(-1) for p in range(H * W)])
    assert np.array_equal(dep, expected)


def test_without_the_shift_the_vertical_stack_leaks(monkeypatch):
    """A planted bug: no down-shift of the vertical stack lets outputs see the current row's future."""
    monkeypatch.setattr(gated_module, "down_shift", lambda x: x)
    torch.manual_seed(0)
    model = GatedPixelCNN(1, 8, 2, 3, image_size=4)
    result = check_autoregressive(_dep(model, 1, 4, 4), output_site=_output_sites(1, 2, 4, 4))
    assert not result.passed


def test_first_layer_mask_must_hide_the_centre():
    """A planted bug: the first horizontal layer with type-B centre sees the pixel it predicts."""
    torch.manual_seed(0)
    model = GatedPixelCNN(1, 8, 2, 3, image_size=4)
    model.layers[0].h_mask.fill_(1.0)
    assert not check_autoregressive(_dep(model, 1, 4, 4), output_site=_output_sites(1, 2, 4, 4)).passed


def test_colour_gated_follows_pixel_then_channel_order():
    torch.manual_seed(0)
    C, H, W, V = 3, 3, 3, 4
    model = GatedPixelCNN(C, 12, 2, 3, num_values=V, color_channels=3, image_size=3)
    dep = _dep(model, C, H, W)
    sites = _output_sites(C, V, H, W)
    assert check_autoregressive(dep, ordering=image_ordering(C, H, W), output_site=sites).passed
    p = 1 * W + 1
    row = lambda c: dep[(c * V) * H * W + p].reshape(C, H * W)[:, p]  # noqa: E731
    assert [row(c).tolist() for c in range(3)] == [[False] * 3, [True, False, False], [True, True, False]]


def test_class_conditioning_changes_the_density_not_the_order():
    torch.manual_seed(0)
    model = _sharpen(GatedPixelCNN(1, 8, 2, 3, num_labels=3, image_size=2))
    support = all_binary_vectors(4).reshape(-1, 1, 2, 2)
    per_class = []
    for k in range(3):
        y = torch.full((len(support),), k)
        assert check_normalization(lambda x: model.log_prob(x, y[:len(x)]), support).passed
        per_class.append(model.log_prob(support, y))
    assert not torch.allclose(per_class[0], per_class[1])
    dep = _dep(model, 1, 4, 4, y=torch.tensor([2]).expand(6))
    assert check_autoregressive(dep, output_site=_output_sites(1, 2, 4, 4)).passed
    with pytest.raises(ValueError, match="labels"):
        model.log_prob(support)
    with pytest.raises(ValueError, match="not class-conditional"):
        GatedPixelCNN(1, 4, 1, 3).log_prob(support, torch.zeros(16, dtype=torch.long))


def test_normalization_binary_3x3_and_colour_2x2():
    model = _sharpen(GatedPixelCNN(1, 8, 3, 3, image_size=3))
    assert check_normalization(model.log_prob, all_binary_vectors(9).reshape(-1, 1, 3, 3)).passed
    colour = _sharpen(GatedPixelCNN(3, 6, 2, 3, num_values=2, color_channels=3, image_size=2))
    assert check_normalization(colour.log_prob, all_binary_vectors(12).reshape(-1, 3, 2, 2)).passed


def test_sampler_agrees_with_density_on_2x2_conditional():
    model = _sharpen(GatedPixelCNN(1, 8, 2, 3, num_labels=2, image_size=2), seed=2)
    support = all_binary_vectors(4).reshape(-1, 1, 2, 2)
    for k in (0, 1):
        with torch.no_grad():
            probs = model.log_prob(support, torch.full((16,), k)).exp().numpy()
        samples = model.sample(3000, generator=torch.Generator().manual_seed(k), y=torch.tensor([k]))
        assert samples.shape == (3000, 1, 2, 2)
        result = check_sampler(binary_rows_to_index(samples.reshape(3000, -1).numpy()), probs)
        assert result.passed, result.message


def test_sampler_with_the_wrong_label_fails():
    model = _sharpen(GatedPixelCNN(1, 8, 2, 3, num_labels=2, image_size=2), seed=2)
    support = all_binary_vectors(4).reshape(-1, 1, 2, 2)
    with torch.no_grad():
        probs0 = model.log_prob(support, torch.zeros(16, dtype=torch.long)).exp().numpy()
    samples1 = model.sample(3000, generator=torch.Generator().manual_seed(0), y=torch.tensor([1]))
    assert not check_sampler(binary_rows_to_index(samples1.reshape(3000, -1).numpy()), probs0).passed


def test_mask_survives_training_and_load_state_dict():
    torch.manual_seed(0)
    model = GatedPixelCNN(1, 6, 2, 3, image_size=4)
    opt = torch.optim.SGD(model.parameters(), lr=5.0)
    x = torch.randint(0, 2, (8, 4, 4))
    for _ in range(3):
        loss = -model.log_prob(x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.load_state_dict({k: torch.ones_like(v) * 0.3 for k, v in model.state_dict().items()})
    assert check_autoregressive(_dep(model, 1, 4, 4), output_site=_output_sites(1, 2, 4, 4)).passed


def test_coloured_digits_dataset():
    from course_lib.data import load_digits
    from course_lib.data.coloured_digits import load_coloured_digits

    a, b = load_coloured_digits("train"), load_coloured_digits("train")
    assert a.images.shape == (1197, 3, 8, 8) and a.images.dtype == np.uint8
    assert np.array_equal(a.images, b.images), "the set must be the same on every call (seeded)"
    assert set(np.unique(a.images)) <= {0, 1, 2, 3}
    assert np.array_equal(a.labels, load_digits("train").labels)
    # two colours per image: ink on the binarized digit, paper elsewhere
    ink = load_digits("train", binarized=True).images.astype(bool)
    for n in range(20):
        pixels = a.images[n].reshape(3, -1).T
        assert len({tuple(p) for p in pixels[ink[n].reshape(-1)]}) == 1
        assert len({tuple(p) for p in pixels[~ink[n].reshape(-1)]}) == 1
    test = load_coloured_digits("test")
    assert test.images.shape == (300, 3, 8, 8) and not np.array_equal(test.images[:10], a.images[:10])
    blended = load_coloured_digits("validation", blend=True)
    assert blended.images.shape == (300, 3, 8, 8) and blended.images.max() <= 3
    with pytest.raises(ValueError):
        load_coloured_digits("dev")
