/* The papers' augmentation recipes as pipeline specs. Crop sizes follow
 * the requested output side; the blur kernel is "auto" (about a tenth of
 * the side: 23 at 224 as the papers use, 3 at 28 or 32). Normalisation is
 * "auto": the dataset's own per-channel mean and std. See
 * docs/augmentation.md for the sources and for the fmnist choices. */
#include <stdio.h>
#include <string.h>

#include "views.h"

typedef struct preset {
    const char *name;
    int n_pipelines;
    const char *pipelines[2]; /* printf formats taking the side twice */
} preset;

/* BYOL (Grill et al. 2020, table 6); VICReg (Bardes et al. 2022) uses the
 * same two views. */
#define BYOL_COMMON                                                            \
    "crop:size=%d,scale=0.08-1.0|flip:p=0.5|"                                  \
    "jitter:brightness=0.4,contrast=0.4,saturation=0.2,hue=0.1,p=0.8|"         \
    "grayscale:p=0.2|"

static const preset PRESETS[] = {
    {"byol",
     2,
     {BYOL_COMMON "blur:sigma=0.1-2.0,p=1.0|normalize",
      BYOL_COMMON "blur:sigma=0.1-2.0,p=0.1|solarize:threshold=0.5,p=0.2|"
                  "normalize"}},
    {"vicreg",
     2,
     {BYOL_COMMON "blur:sigma=0.1-2.0,p=1.0|normalize",
      BYOL_COMMON "blur:sigma=0.1-2.0,p=0.1|solarize:threshold=0.5,p=0.2|"
                  "normalize"}},
    /* SimCLR (Chen et al. 2020, appendix A): colour strength s = 1. */
    {"simclr",
     1,
     {"crop:size=%d,scale=0.08-1.0|flip:p=0.5|"
      "jitter:brightness=0.8,contrast=0.8,saturation=0.8,hue=0.2,p=0.8|"
      "grayscale:p=0.2|blur:sigma=0.1-2.0,p=0.5|normalize",
      NULL}},
    /* SimSiam (Chen & He 2021, section 4). */
    {"simsiam",
     1,
     {"crop:size=%d,scale=0.2-1.0|flip:p=0.5|"
      "jitter:brightness=0.4,contrast=0.4,saturation=0.4,hue=0.1,p=0.8|"
      "grayscale:p=0.2|blur:sigma=0.1-2.0,p=0.5|normalize",
      NULL}},
    /* Fashion-MNIST, 28x28 grayscale: mild crops (tuned on a held-out
     * split, docs/augmentation.md), brightness and contrast only,
     * a light blur, BYOL's asymmetry of blur and solarisation. */
    {"fmnist",
     2,
     {"crop:size=%d,scale=0.7-1.0|flip:p=0.5|"
      "jitter:brightness=0.4,contrast=0.4,p=0.8|"
      "blur:sigma=0.1-1.0,p=0.5|normalize",
      "crop:size=%d,scale=0.7-1.0|flip:p=0.5|"
      "jitter:brightness=0.4,contrast=0.4,p=0.8|"
      "blur:sigma=0.1-1.0,p=0.1|solarize:threshold=0.5,p=0.2|normalize"}},
    /* fmnist with crops of 90-100%: what Barlow Twins learns fastest
     * from in short runs (docs/augmentation.md). */
    {"fmnist-light",
     2,
     {"crop:size=%d,scale=0.9-1.0|flip:p=0.5|"
      "jitter:brightness=0.4,contrast=0.4,p=0.8|"
      "blur:sigma=0.1-1.0,p=0.5|normalize",
      "crop:size=%d,scale=0.9-1.0|flip:p=0.5|"
      "jitter:brightness=0.4,contrast=0.4,p=0.8|"
      "blur:sigma=0.1-1.0,p=0.1|solarize:threshold=0.5,p=0.2|normalize"}},
    /* RGB collections (selfsup_dataset_open), after the CIFAR and STL
     * recipes of solo-learn and lightly: BYOL's crops, jitter and
     * grayscale with solarisation on the second view; no blur at 32 and
     * 64 pixels, where a 3-pixel kernel erases what little texture there
     * is; BYOL's blur at 96 (STL-10). */
    {"rgb32",
     2,
     {BYOL_COMMON "normalize",
      BYOL_COMMON "solarize:threshold=0.5,p=0.2|normalize"}},
    {"rgb64",
     2,
     {BYOL_COMMON "normalize",
      BYOL_COMMON "solarize:threshold=0.5,p=0.2|normalize"}},
    {"rgb96",
     2,
     {BYOL_COMMON "blur:sigma=0.1-2.0,p=1.0|normalize",
      BYOL_COMMON "blur:sigma=0.1-2.0,p=0.1|solarize:threshold=0.5,p=0.2|"
                  "normalize"}},
};
enum { PRESET_COUNT = sizeof PRESETS / sizeof PRESETS[0] };

static const preset *find(const char *name)
{
    for (int i = 0; i < PRESET_COUNT; i++)
        if (strcmp(PRESETS[i].name, name) == 0)
            return &PRESETS[i];
    return NULL;
}

int selfsup__views_preset_pipelines(const char *name)
{
    const preset *p = find(name);
    return p ? p->n_pipelines : 0;
}

const char *selfsup__views_preset(const char *name, int view, int out_size,
                                  char *buf, size_t cap)
{
    const preset *p = find(name);
    if (!p)
        return NULL;
    snprintf(buf, cap, p->pipelines[view % p->n_pipelines], out_size);
    return buf;
}
