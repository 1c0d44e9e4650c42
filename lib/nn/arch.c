#include "arch.h"

#include <stdio.h>

/* torchvision's BasicBlock: conv3x3-bn-relu-conv3x3-bn, plus the input or
 * a 1x1-conv-bn projection of it, then relu. */
static int basic_block(selfsup__graph *g, const char *name, int x, int64_t in_c,
                       int64_t out_c, int stride)
{
    char n[SELFSUP__PARAM_NAME_MAX];
    snprintf(n, sizeof n, "%s.conv1", name);
    int h = selfsup__graph_conv(g, n, x, out_c, 3, stride, 1, 0,
                                SS_INIT_KAIMING_FAN_OUT);
    snprintf(n, sizeof n, "%s.bn1", name);
    h = selfsup__graph_bn(g, n, h, 1, 1);
    snprintf(n, sizeof n, "%s.conv2", name);
    h = selfsup__graph_conv(g, n, h, out_c, 3, 1, 1, 0,
                            SS_INIT_KAIMING_FAN_OUT);
    snprintf(n, sizeof n, "%s.bn2", name);
    h = selfsup__graph_bn(g, n, h, 0, 1);
    int shortcut = x;
    if (stride != 1 || in_c != out_c) {
        snprintf(n, sizeof n, "%s.downsample.0", name);
        shortcut = selfsup__graph_conv(g, n, x, out_c, 1, stride, 0, 0,
                                       SS_INIT_KAIMING_FAN_OUT);
        snprintf(n, sizeof n, "%s.downsample.1", name);
        shortcut = selfsup__graph_bn(g, n, shortcut, 0, 1);
    }
    return selfsup__graph_add(g, h, shortcut, 1);
}

selfsup_status selfsup__resnet18_graph(selfsup__graph *g, int64_t width,
                                       int64_t in_channels, int stem_stride,
                                       int grid)
{
    selfsup__graph_init(g, 4, in_channels);
    int x = selfsup__graph_conv(g, "conv1", g->input, width, 3, stem_stride, 1,
                                0, SS_INIT_KAIMING_FAN_OUT);
    x = selfsup__graph_bn(g, "bn1", x, 1, 1);
    int64_t c = width;
    for (int stage = 0; stage < 4; stage++) {
        int64_t out_c = width << stage;
        for (int block = 0; block < 2; block++) {
            char name[32];
            snprintf(name, sizeof name, "layer%d.%d", stage + 1, block);
            int stride = stage > 0 && block == 0 ? 2 : 1;
            x = basic_block(g, name, x, c, out_c, stride);
            c = out_c;
        }
    }
    x = grid == 1 ? selfsup__graph_pool(g, x, SS_POOL_GLOBAL_AVG, 0, 1, 0)
                  : selfsup__graph_pool(g, x, SS_POOL_GRID_AVG, grid, 1, 0);
    return selfsup__graph_finish(g, x);
}

selfsup_status selfsup__mlp_graph(selfsup__graph *g, int64_t in, int64_t hidden,
                                  int64_t out, int layers, int last_bn,
                                  int bias)
{
    selfsup__graph_init(g, 2, in);
    int x = g->input, index = 0;
    char name[16];
    for (int l = 0; l < layers - 1; l++) {
        snprintf(name, sizeof name, "%d", index++);
        x = selfsup__graph_linear(g, name, x, hidden, bias);
        snprintf(name, sizeof name, "%d", index++);
        x = selfsup__graph_bn(g, name, x, 1, 1);
        index++; /* the ReLU, fused into the batch norm */
    }
    snprintf(name, sizeof name, "%d", index++);
    x = selfsup__graph_linear(g, name, x, out, bias);
    if (last_bn) {
        snprintf(name, sizeof name, "%d", index++);
        x = selfsup__graph_bn(g, name, x, 0, 0);
    }
    return selfsup__graph_finish(g, x);
}
