"""The analytic receptive field and blind spot (mask geometry only) against gradient dependency
maps of real networks, for every pixel of a 16x16 canvas and depths 1 to 8."""
import numpy as np
import pytest
import torch
from torch import nn

from course_lib.checks import dependency_map
from course_lib.models.gated_pixelcnn import GatedPixelCNN
from course_lib.models.pixelcnn import MaskedConv2d
from course_lib.receptive_field import (blind_spot, blind_spot_size, earlier_pixels, gated_pixelcnn_receptive_field,
                                        mask_offsets, pixelcnn_receptive_field, reach)

SIZE = 16


def _stack(num_layers, kernel_size, seed=0):
    """One-channel MaskedConv2d stack, first A then B. Positive weights: no path can cancel another,
    so a zero gradient means "no path", exactly."""
    torch.manual_seed(seed)
    layers = [MaskedConv2d(1, 1, kernel_size, "A" if i == 0 else "B") for i in range(num_layers)]
    with torch.no_grad():
        for layer in layers:
            layer.weight.uniform_(0.5, 1.5)
    return nn.Sequential(*layers)


def _all_pixel_maps(net, size=SIZE, points=2):
    """dep[p] = the (size, size) input map that output pixel p depends on (one backward per output,
    over a batch of `points` random images, so a ReLU that happens to be off at one point does not hide a path)."""
    x = torch.randn(points, 1, size, size, generator=torch.Generator().manual_seed(0))
    return dependency_map(net, x, method="gradient").reshape(size * size, size, size)


def _analytic_maps(fn, num_layers, kernel_size, size=SIZE):
    return np.stack([fn(num_layers, kernel_size, size, size, p // size, p % size) for p in range(size * size)])


@pytest.mark.parametrize("num_layers", range(1, 9))
def test_pixelcnn_field_equals_gradient_map_for_every_pixel(num_layers):
    dep = _all_pixel_maps(_stack(num_layers, 3))
    expected = _analytic_maps(pixelcnn_receptive_field, num_layers, 3)
    wrong = np.argwhere((dep != expected).any(axis=(1, 2))).reshape(-1)
    assert wrong.size == 0, f"{num_layers} layers: analytic field differs at output pixels {wrong[:10].tolist()}"


@pytest.mark.parametrize("num_layers", [1, 2, 4])
def test_pixelcnn_field_equals_gradient_map_kernel_5(num_layers):
    assert np.array_equal(_all_pixel_maps(_stack(num_layers, 5)),
                          _analytic_maps(pixelcnn_receptive_field, num_layers, 5))


@pytest.mark.parametrize("num_layers", [1, 2, 5, 8])
def test_gated_field_equals_gradient_map_for_every_pixel(num_layers):
    torch.manual_seed(num_layers)
    model = GatedPixelCNN(1, 8, num_layers, 3, image_size=SIZE)
    dep = _all_pixel_maps(lambda z: model(z)[:, :, 0], SIZE, points=8)
    assert np.array_equal(dep, _analytic_maps(gated_pixelcnn_receptive_field, num_layers, 3))


def test_mask_offsets():
    assert mask_offsets(3, "A") == [(-1, -1), (-1, 0), (-1, 1), (0, -1)]
    assert mask_offsets(3, "B") == mask_offsets(3, "A") + [(0, 0)]
    assert len(mask_offsets(5, "B")) == 13


def test_known_shape_of_three_layer_field():
    seen = pixelcnn_receptive_field(3, 3, 8, 8, 5, 4).astype(int)
    expected = np.zeros((8, 8), int)
    expected[2, 1:8] = 1
    expected[3, 1:7] = 1
    expected[4, 1:6] = 1
    expected[5, 1:4] = 1
    assert np.array_equal(seen, expected)
    # the blind spot within reach: upper right, rows 3 and 4
    bs = blind_spot(3, 3, 8, 8, 5, 4, within_reach=True)
    assert sorted(map(tuple, np.argwhere(bs).tolist())) == [(3, 7), (4, 6), (4, 7)]


@pytest.mark.parametrize("kernel_size", [3, 5, 7])
def test_blind_spot_size_formula(kernel_size):
    r = kernel_size // 2
    assert [blind_spot_size(L, kernel_size) for L in range(1, 9)] == [r * L * (L - 1) // 2 for L in range(1, 9)]


def test_blind_spot_is_in_the_past_and_complements_the_field():
    for row, col in [(0, 0), (0, 5), (7, 0), (9, 15), (15, 15)]:
        past = earlier_pixels(SIZE, SIZE, row, col)
        seen = pixelcnn_receptive_field(4, 3, SIZE, SIZE, row, col)
        assert not (seen & ~past).any(), "the receptive field reaches a pixel at or after the output"
        assert np.array_equal(blind_spot(4, 3, SIZE, SIZE, row, col), past & ~seen)
        assert np.array_equal(blind_spot(4, 3, SIZE, SIZE, row, col, within_reach=True),
                              reach(4, 3, SIZE, SIZE, row, col) & ~seen)
    assert not blind_spot(2, 3, SIZE, SIZE, 0, 0).any()


def test_gated_has_no_blind_spot_within_reach():
    for L in (1, 3, 6):
        for row, col in [(5, 5), (10, 15), (15, 0), (3, 12)]:
            gated = gated_pixelcnn_receptive_field(L, 3, SIZE, SIZE, row, col)
            assert not (reach(L, 3, SIZE, SIZE, row, col) & ~gated).any()
            assert not (gated & ~earlier_pixels(SIZE, SIZE, row, col)).any()


def test_argument_checks():
    with pytest.raises(ValueError):
        pixelcnn_receptive_field(0, 3, 8, 8, 1, 1)
    with pytest.raises(ValueError):
        pixelcnn_receptive_field(2, 4, 8, 8, 1, 1)
    with pytest.raises(ValueError):
        blind_spot(2, 3, 8, 8, 8, 1)
