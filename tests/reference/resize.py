#!/usr/bin/python3
"""Golden values for lib/data/image_resize.c: torchvision's Resize(size)
followed by CenterCrop(size) on PIL images, with PIL's antialiased bilinear
filter run in float ('F' mode, one channel at a time) so that the library's
float arithmetic can be compared before its single rounding.

    /usr/bin/python3 tests/reference/resize.py > tests/data/resize.txt

Each case's input is the pattern (37 x + 91 y + 53 c + 11) mod 256 (the
test computes the same); its output is written as "resize_W_H_C_S count"
followed by the size x size x C values, HWC.
"""
from PIL import Image

CASES = [  # in_w, in_h, channels, size
    (28, 28, 1, 28),  # identity
    (5, 7, 1, 12),  # upscale, portrait
    (37, 29, 3, 16),  # downscale, landscape, colour
    (300, 40, 1, 8),  # a strong reduction, a wide crop
    (20, 31, 3, 10),  # crop offset 2.5: rounds half to even (2)
    (20, 27, 1, 10),  # crop offset 1.5: rounds half to even (2)
    (64, 64, 1, 9),  # a reduction that is not an integer
]


def pattern(x, y, c):
    return (37 * x + 91 * y + 53 * c + 11) % 256


def resized_size(w, h, size):
    # torchvision.transforms.functional._compute_resized_output_size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    return (new_short, new_long) if w <= h else (new_long, new_short)


def centre_crop_box(w, h, size):
    # torchvision.transforms.functional.center_crop
    top = int(round((h - size) / 2.0))
    left = int(round((w - size) / 2.0))
    return (left, top, left + size, top + size)


def main():
    for w, h, c, size in CASES:
        rw, rh = resized_size(w, h, size)
        box = centre_crop_box(rw, rh, size)
        planes = []
        for ch in range(c):
            img = Image.new("F", (w, h))
            img.putdata([float(pattern(x, y, ch))
                         for y in range(h) for x in range(w)])
            out = img.resize((rw, rh), Image.BILINEAR).crop(box)
            planes.append(list(out.getdata()))
        values = [planes[ch][i] for i in range(size * size) for ch in range(c)]
        print("resize_%d_%d_%d_%d %d" % (w, h, c, size, len(values)))
        print(" ".join("%.9g" % v for v in values))


if __name__ == "__main__":
    main()
