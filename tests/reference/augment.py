#!/usr/bin/python3
"""Golden outputs of torchvision 0.14's tensor functionals for the augment
suite: each operation with fixed parameters (crop boxes, factors, kernels)
on three Fashion-MNIST test images and a synthetic RGB image.

Run: /usr/bin/python3 tests/reference/augment.py  (writes tests/data/augment.txt)
Factors are dyadic (exact in float32) so that C and torch start from the
same numbers."""
import gzip
import os

import torch
import torchvision.transforms.functional as F

torch.set_num_threads(1)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "augment.txt")
FMNIST = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

arrays = []


def put(name, tensor):
    values = tensor.detach().to(torch.float64).flatten().tolist()
    arrays.append((name, values))


def gray_images():
    with gzip.open(FMNIST, "rb") as f:
        data = f.read()
    assert data[:4] == b"\x00\x00\x08\x03"
    pixels = torch.frombuffer(bytearray(data[16:16 + 3 * 784]), dtype=torch.uint8)
    return [pixels[i * 784:(i + 1) * 784].reshape(28, 28, 1) for i in range(3)]


def rgb_image():
    """20 x 24 x 3, HWC: gradients, a product term and a ring, so every
    channel differs and hues cover all sectors."""
    h, w = 20, 24
    y = torch.arange(h).view(h, 1).expand(h, w)
    x = torch.arange(w).view(1, w).expand(h, w)
    r = (x * 11 + y * 7) % 256
    g = (x * y * 3 + 50) % 256
    b = (((x - 12) ** 2 + (y - 10) ** 2) * 2) % 256
    return torch.stack([r, g, b], dim=-1).to(torch.uint8)


def to_float_chw(hwc):
    """F.to_tensor for a uint8 HWC array: CHW float in [0, 1]."""
    return F.convert_image_dtype(hwc.permute(2, 0, 1).contiguous(), torch.float32)


def ops_for(prefix, img, crops, mean, std):
    c = img.shape[0]
    for k, (box, size) in enumerate(crops):
        top, left, height, width = box
        out = F.resized_crop(img, top, left, height, width, list(size),
                             F.InterpolationMode.BILINEAR, antialias=False)
        put(f"{prefix}_crop{k}", out)
    put(f"{prefix}_hflip", F.hflip(img))
    for k, f in enumerate([0.625, 1.5]):
        put(f"{prefix}_brightness{k}", F.adjust_brightness(img, f))
    for k, f in enumerate([0.5, 1.625]):
        put(f"{prefix}_contrast{k}", F.adjust_contrast(img, f))
    for k, f in enumerate([0.25, 1.75]):
        put(f"{prefix}_saturation{k}", F.adjust_saturation(img, f))
    for k, f in enumerate([-0.3125, 0.15625, 0.5]):
        put(f"{prefix}_hue{k}", F.adjust_hue(img, f))
    put(f"{prefix}_grayscale", F.rgb_to_grayscale(img, num_output_channels=c))
    for k, (ks, sigma) in enumerate([(3, 0.75), (5, 1.625), (9, 2.0)]):
        put(f"{prefix}_blur{k}", F.gaussian_blur(img, [ks, ks], [sigma, sigma]))
    for k, t in enumerate([0.5, 0.3125]):
        put(f"{prefix}_solarize{k}", F.solarize(img, t))
    put(f"{prefix}_normalize", F.normalize(img, mean, std))
    # ColorJitter.forward with fn_idx = [3, 0, 2, 1] and fixed factors.
    j = img
    j = F.adjust_hue(j, 0.078125)
    j = F.adjust_brightness(j, 1.25)
    j = F.adjust_saturation(j, 1.375)
    j = F.adjust_contrast(j, 0.75)
    put(f"{prefix}_jitter", j)
    # A whole BYOL-like view with fixed parameters: crop, flip, jitter,
    # grayscale, blur, solarize, normalize.
    top, left, height, width = crops[0][0]
    v = F.resized_crop(img, top, left, height, width, list(crops[0][1]),
                       F.InterpolationMode.BILINEAR, antialias=False)
    v = F.hflip(v)
    v = F.adjust_contrast(v, 1.25)
    v = F.adjust_hue(v, -0.0625)
    v = F.adjust_brightness(v, 0.875)
    v = F.adjust_saturation(v, 0.75)
    v = F.rgb_to_grayscale(v, num_output_channels=c)
    v = F.gaussian_blur(v, [3, 3], [1.125, 1.125])
    v = F.solarize(v, 0.5)
    v = F.normalize(v, mean, std)
    put(f"{prefix}_view", v)


# Crop-parameter statistics of RandomResizedCrop.get_params itself, for
# the suite to compare its own draws with: (name, h, w, scale, ratio).
CROP_STATS = [("crop_stats_a", 28, 28, (0.08, 1.0), (3 / 4, 4 / 3)),
              ("crop_stats_b", 20, 24, (0.2, 1.0), (3 / 4, 4 / 3)),
              ("crop_stats_c", 28, 28, (0.5, 1.0), (1.3, 2.5))]
CROP_DRAWS = 100000
AREA_BINS = 10    # area fraction h w / (H W) over [0, 1]
ASPECT_BINS = 12  # log(w / h) over [log(ratio[0]) - 0.1, log(ratio[1]) + 0.1]


def fallback_box(h, w, ratio):
    """The centre crop get_params falls back to (its last lines)."""
    in_ratio = w / h
    if in_ratio < min(ratio):
        cw, ch = w, int(round(w / min(ratio)))
    elif in_ratio > max(ratio):
        ch, cw = h, int(round(h * max(ratio)))
    else:
        cw, ch = w, h
    return (h - ch) // 2, (w - cw) // 2, ch, cw


def crop_stats():
    import math
    import torchvision.transforms as T
    torch.manual_seed(0)
    for name, h, w, scale, ratio in CROP_STATS:
        img = torch.zeros(1, h, w)
        area = torch.zeros(AREA_BINS, dtype=torch.float64)
        aspect = torch.zeros(ASPECT_BINS, dtype=torch.float64)
        lo, hi = math.log(ratio[0]) - 0.1, math.log(ratio[1]) + 0.1
        fallback = fallback_box(h, w, ratio)
        fallbacks = 0
        top_sum = 0.0
        top_count = 0
        for _ in range(CROP_DRAWS):
            i, j, ch, cw = T.RandomResizedCrop.get_params(img, list(scale), list(ratio))
            if (i, j, ch, cw) == fallback:
                fallbacks += 1
            a = ch * cw / (h * w)
            area[min(int(a * AREA_BINS), AREA_BINS - 1)] += 1
            t = (math.log(cw / ch) - lo) / (hi - lo)
            aspect[min(max(int(t * ASPECT_BINS), 0), ASPECT_BINS - 1)] += 1
            if ch < h:
                top_sum += i / (h - ch)
                top_count += 1
        put(f"{name}_area", area / CROP_DRAWS)
        put(f"{name}_aspect", aspect / CROP_DRAWS)
        put(f"{name}_fallback", torch.tensor([fallbacks / CROP_DRAWS]))
        put(f"{name}_top", torch.tensor([top_sum / max(top_count, 1)]))
    put("crop_stats_draws", torch.tensor([float(CROP_DRAWS)]))


def main():
    grays = gray_images()
    gray_crops = [((3, 5, 17, 13), (28, 28)), ((0, 0, 28, 28), (20, 20)),
                  ((10, 2, 9, 25), (28, 28)), ((4, 4, 20, 20), (32, 32))]
    for i, hwc in enumerate(grays):
        put(f"gray{i}_pixels", hwc)
        ops_for(f"gray{i}", to_float_chw(hwc), gray_crops, [0.2860], [0.3530])
    rgb = rgb_image()
    put("rgb_pixels", rgb)
    rgb_crops = [((2, 4, 15, 18), (32, 32)), ((0, 0, 20, 24), (12, 12)),
                 ((5, 1, 14, 9), (28, 28)), ((0, 0, 20, 24), (20, 24))]
    ops_for("rgb", to_float_chw(rgb), rgb_crops, [0.485, 0.456, 0.406],
            [0.229, 0.224, 0.225])
    crop_stats()
    with open(OUT, "w") as f:
        for name, values in arrays:
            f.write(f"{name} {len(values)}\n")
            for k in range(0, len(values), 8):
                f.write(" ".join("%.9g" % v for v in values[k:k + 8]) + "\n")


if __name__ == "__main__":
    main()
