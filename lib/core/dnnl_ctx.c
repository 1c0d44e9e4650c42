#include "dnnl_ctx.h"

#include <pthread.h>

#include "error.h"

static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static dnnl_engine_t engine;
static dnnl_status_t engine_status;

static pthread_once_t stream_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t stream_key;
static int stream_key_ok;
static _Thread_local dnnl_stream_t thread_stream;

static void create_engine(void)
{
    engine_status = dnnl_engine_create(&engine, dnnl_cpu, 0);
}

static void destroy_stream(void *stream)
{
    dnnl_stream_destroy((dnnl_stream_t)stream);
}

static void create_stream_key(void)
{
    stream_key_ok = pthread_key_create(&stream_key, destroy_stream) == 0;
}

static const char *dnnl_status_text(dnnl_status_t st)
{
    switch (st) {
    case dnnl_success:
        return "success";
    case dnnl_out_of_memory:
        return "out of memory";
    case dnnl_invalid_arguments:
        return "invalid arguments";
    case dnnl_unimplemented:
        return "unimplemented";
    case dnnl_iterator_ends:
        return "iterator ends";
    case dnnl_runtime_error:
        return "runtime error";
    case dnnl_not_required:
        return "not required";
    }
    return "unknown oneDNN status";
}

selfsup_status selfsup__dnnl_check(dnnl_status_t st, const char *where,
                                   const char *what)
{
    if (st == dnnl_success)
        return SELFSUP_OK;
    selfsup_status s = SELFSUP_ERR_BACKEND;
    if (st == dnnl_out_of_memory)
        s = SELFSUP_ERR_OUT_OF_MEMORY;
    else if (st == dnnl_unimplemented)
        s = SELFSUP_ERR_UNSUPPORTED;
    return selfsup__fail(s, where, "oneDNN %s failed: %s (status %d)", what,
                         dnnl_status_text(st), (int)st);
}

selfsup_status selfsup__dnnl_engine(dnnl_engine_t *out)
{
    pthread_once(&engine_once, create_engine);
    SS_TRY(selfsup__dnnl_check(engine_status, __func__, "engine creation"));
    *out = engine;
    return SELFSUP_OK;
}

selfsup_status selfsup__dnnl_stream(dnnl_stream_t *out)
{
    if (thread_stream) {
        *out = thread_stream;
        return SELFSUP_OK;
    }
    dnnl_engine_t eng;
    SS_TRY(selfsup__dnnl_engine(&eng));
    pthread_once(&stream_key_once, create_stream_key);
    if (!stream_key_ok)
        return SS_FAIL(SELFSUP_ERR_BACKEND,
                       "cannot create the per-thread stream key");
    dnnl_stream_t s;
    SS_TRY(selfsup__dnnl_check(
        dnnl_stream_create(&s, eng, dnnl_stream_default_flags), __func__,
        "stream creation"));
    if (pthread_setspecific(stream_key, s) != 0) {
        dnnl_stream_destroy(s);
        return SS_FAIL(SELFSUP_ERR_OUT_OF_MEMORY,
                       "cannot register the per-thread stream");
    }
    thread_stream = s;
    *out = s;
    return SELFSUP_OK;
}

int selfsup__dnnl_has_bf16(void)
{
    unsigned isa = (unsigned)dnnl_get_effective_cpu_isa();
    return (isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core;
}

int selfsup__dnnl_has_native_bf16(void)
{
    unsigned isa = (unsigned)dnnl_get_effective_cpu_isa();
    return (isa & dnnl_cpu_isa_avx512_core_bf16) ==
           dnnl_cpu_isa_avx512_core_bf16;
}

const char *selfsup__dnnl_isa_name(void)
{
    /* the largest named set the effective ISA contains */
    static const struct {
        dnnl_cpu_isa_t isa;
        const char *name;
    } names[] = {
        {dnnl_cpu_isa_avx512_core_amx, "avx512_core_amx"},
        {dnnl_cpu_isa_avx512_core_bf16, "avx512_core_bf16"},
        {dnnl_cpu_isa_avx512_core_vnni, "avx512_core_vnni"},
        {dnnl_cpu_isa_avx512_core, "avx512_core"},
        {dnnl_cpu_isa_avx2_vnni, "avx2_vnni"},
        {dnnl_cpu_isa_avx2, "avx2"},
        {dnnl_cpu_isa_avx, "avx"},
        {dnnl_cpu_isa_sse41, "sse41"},
    };
    unsigned isa = (unsigned)dnnl_get_effective_cpu_isa();
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if ((isa & (unsigned)names[i].isa) == (unsigned)names[i].isa)
            return names[i].name;
    return "generic";
}
