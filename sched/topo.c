/*
 * topo.c - core kinds from hwloc's cpukinds API, thread binding, and the public hidp_topology_*
 * functions.
 */
#include <errno.h>
#include <hwloc.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "calib.h"
#include "topo.h"

/* The cpukinds API appeared in hwloc 2.4; older hwloc gives one kind of all PUs. */
#define HIDP__HAVE_CPUKINDS (HWLOC_API_VERSION >= 0x00020400)

struct hidp__topo_hw {
    hwloc_topology_t topo;
};

struct hidp_topology {
    hidp__topo t;
};

/* Copies the infos hidp knows from one kind. */
static void kind_infos(hidp__core_kind *k, const struct hwloc_info_s *infos, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        const char *name = infos[i].name, *value = infos[i].value;
        if (!name || !value)
            continue;
        long v = strtol(value, NULL, 10);
        if (v < 0 || v > 1000000)
            v = 0;
        if (!strcmp(name, "CoreType"))
            snprintf(k->core_type, sizeof k->core_type, "%s", value);
        else if (!strcmp(name, "FrequencyMaxMHz"))
            k->frequency_max_mhz = (int)v;
        else if (!strcmp(name, "FrequencyBaseMHz"))
            k->frequency_base_mhz = (int)v;
        else if (!strcmp(name, "LinuxCapacity"))
            k->linux_capacity = (int)v;
    }
}

/* Fills k's PU list and core count from set (already restricted to the topology's PUs). */
static int kind_from_set(hwloc_topology_t topo, hidp__core_kind *k, hwloc_const_bitmap_t set,
                         hidp__err *err)
{
    int n = hwloc_bitmap_weight(set), i = 0;
    unsigned pu;
    hwloc_bitmap_t cores = hwloc_bitmap_alloc();
    k->pus = malloc((size_t)(n > 0 ? n : 1) * sizeof *k->pus);
    if (!cores || !k->pus) {
        hwloc_bitmap_free(cores);
        free(k->pus);
        k->pus = NULL;
        return hidp__fail(err, HIDP_ENOMEM, "topology: out of memory listing %d PUs", n);
    }
    /* Bitmap iteration is ascending, so the list comes out sorted. */
    hwloc_bitmap_foreach_begin(pu, set)
    {
        k->pus[i++] = (int)pu;
        hwloc_obj_t obj = hwloc_get_pu_obj_by_os_index(topo, pu);
        hwloc_obj_t core = obj ? hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_CORE, obj) : NULL;
        /* A PU without a Core parent (some VMs) is a core of its own: mark it past the real
         * cores' logical indices. */
        if (core)
            hwloc_bitmap_set(cores, core->logical_index);
        else
            hwloc_bitmap_set(cores, 0x100000u + pu);
    }
    hwloc_bitmap_foreach_end();
    k->n_pus = i;
    k->cores = hwloc_bitmap_weight(cores);
    hwloc_bitmap_free(cores);
    return 0;
}

/* Fastest first: see hidp__topo_load in topo.h. */
static int kind_cmp(const void *pa, const void *pb)
{
    const hidp__core_kind *a = pa, *b = pb;
    if (a->efficiency >= 0 && b->efficiency >= 0 && a->efficiency != b->efficiency)
        return a->efficiency > b->efficiency ? -1 : 1;
    if (a->linux_capacity != b->linux_capacity)
        return a->linux_capacity > b->linux_capacity ? -1 : 1;
    if (a->frequency_max_mhz != b->frequency_max_mhz)
        return a->frequency_max_mhz > b->frequency_max_mhz ? -1 : 1;
    if (a->frequency_base_mhz != b->frequency_base_mhz)
        return a->frequency_base_mhz > b->frequency_base_mhz ? -1 : 1;
    return (a->pus[0] > b->pus[0]) - (a->pus[0] < b->pus[0]);
}

/* Reads kind i's cpuset, efficiency and infos, hiding the hwloc 3 signature change. */
static int get_kind(hwloc_topology_t topo, unsigned i, hwloc_bitmap_t set, hidp__core_kind *k)
{
#if HWLOC_API_VERSION >= 0x00030000
    struct hwloc_infos_s *infos = NULL;
    if (hwloc_cpukinds_get_info(topo, i, set, &k->efficiency, &infos, 0) != 0)
        return -1;
    if (infos)
        kind_infos(k, infos->array, infos->count);
#elif HIDP__HAVE_CPUKINDS
    struct hwloc_info_s *infos = NULL;
    unsigned n = 0;
    if (hwloc_cpukinds_get_info(topo, i, set, &k->efficiency, &n, &infos, 0) != 0)
        return -1;
    kind_infos(k, infos, n);
#else
    (void)topo, (void)i, (void)set, (void)k;
    return -1;
#endif
    return 0;
}

static void describe_source(hidp__topo *t)
{
    const char *xml = getenv("HWLOC_XMLFILE"), *syn = getenv("HWLOC_SYNTHETIC");
    const char *fs = getenv("HWLOC_FSROOT");
    if (xml && *xml)
        snprintf(t->source, sizeof t->source, "XML file %s%s", xml,
                 t->this_system ? " (HWLOC_THISSYSTEM=1: this machine)" : "");
    else if (syn && *syn)
        snprintf(t->source, sizeof t->source, "synthetic topology \"%s\"", syn);
    else if (fs && *fs)
        snprintf(t->source, sizeof t->source, "sysfs tree under %s", fs);
    else
        snprintf(t->source, sizeof t->source, "this system");
}

int hidp__topo_load(hidp__topo *t, hidp__err *err)
{
    hwloc_bitmap_t set = NULL, left = NULL;
    int rc;
    memset(t, 0, sizeof *t);
    if (!(t->hw = calloc(1, sizeof *t->hw)))
        return hidp__fail(err, HIDP_ENOMEM, "topology: out of memory");
    if (hwloc_topology_init(&t->hw->topo) != 0) {
        free(t->hw);
        t->hw = NULL;
        return hidp__fail(err, HIDP_ESYSTEM, "topology: hwloc_topology_init failed: %s",
                          strerror(errno));
    }
    /* hwloc would read HWLOC_XMLFILE itself, but falls back to this machine, silently, when
     * the file is missing or malformed; naming the file explicitly makes that a failure. */
    const char *xml = getenv("HWLOC_XMLFILE");
    if (xml && *xml && hwloc_topology_set_xml(t->hw->topo, xml) != 0) {
        int e = errno;
        rc = hidp__fail(err, e == EINVAL ? HIDP_EFORMAT : HIDP_EIO,
                        "topology: hwloc cannot read HWLOC_XMLFILE %s: %s", xml,
                        e == EINVAL ? "not a valid hwloc XML topology" : strerror(e));
        goto fail;
    }
    if (hwloc_topology_load(t->hw->topo) != 0) {
        rc = hidp__fail(err, xml && *xml ? HIDP_EFORMAT : HIDP_ESYSTEM,
                        "topology: hwloc could not load %s%s: %s",
                        xml && *xml ? "HWLOC_XMLFILE " : "this system's topology",
                        xml && *xml ? xml : "", strerror(errno));
        goto fail;
    }
    hwloc_topology_t topo = t->hw->topo;
    t->this_system = hwloc_topology_is_thissystem(topo);
    describe_source(t);
    set = hwloc_bitmap_alloc();
    left = hwloc_bitmap_dup(hwloc_topology_get_topology_cpuset(topo));
    if (!set || !left) {
        rc = hidp__fail(err, HIDP_ENOMEM, "topology: out of memory");
        goto fail;
    }
    int nr = 0;
#if HIDP__HAVE_CPUKINDS
    nr = hwloc_cpukinds_get_nr(topo, 0);
    if (nr < 0)
        nr = 0;
#endif
    /* One slot per reported kind plus one for PUs no kind covers. */
    t->kinds = calloc((size_t)nr + 1, sizeof *t->kinds);
    if (!t->kinds) {
        rc = hidp__fail(err, HIDP_ENOMEM, "topology: out of memory for %d kinds", nr);
        goto fail;
    }
    for (int i = 0; i < nr; i++) {
        hidp__core_kind *k = &t->kinds[t->n_kinds];
        memset(k, 0, sizeof *k);
        if (get_kind(topo, (unsigned)i, set, k) != 0) {
            rc = hidp__fail(err, HIDP_ESYSTEM, "topology: hwloc_cpukinds_get_info(%d) failed: %s",
                            i, strerror(errno));
            goto fail;
        }
        /* A kind may name PUs the topology does not have (restricted by a cgroup cpuset). */
        hwloc_bitmap_and(set, set, left);
        if (hwloc_bitmap_iszero(set))
            continue;
        hwloc_bitmap_andnot(left, left, set);
        if ((rc = kind_from_set(topo, k, set, err)) != 0)
            goto fail;
        t->n_kinds++;
    }
    if (!hwloc_bitmap_iszero(left)) {
        hidp__core_kind *k = &t->kinds[t->n_kinds];
        memset(k, 0, sizeof *k);
        /* A board hwloc says nothing about is one kind, which is then rank 0 as hwloc gives a
         * single kind; leftovers beside ranked kinds have no rank. */
        k->efficiency = t->n_kinds ? -1 : 0;
        if ((rc = kind_from_set(topo, k, left, err)) != 0)
            goto fail;
        t->n_kinds++;
    }
    if (t->n_kinds == 0) {
        rc = hidp__fail(err, HIDP_EFORMAT, "topology from %s has no PUs", t->source);
        goto fail;
    }
    qsort(t->kinds, (size_t)t->n_kinds, sizeof *t->kinds, kind_cmp);
    for (int i = 0; i < t->n_kinds; i++)
        t->n_pus += t->kinds[i].n_pus;
    hwloc_bitmap_free(set);
    hwloc_bitmap_free(left);
    return 0;
fail:
    hwloc_bitmap_free(set);
    hwloc_bitmap_free(left);
    hidp__topo_destroy(t);
    return rc;
}

void hidp__topo_destroy(hidp__topo *t)
{
    if (!t)
        return;
    if (t->kinds)
        for (int i = 0; i < t->n_kinds; i++)
            free(t->kinds[i].pus);
    free(t->kinds);
    if (t->hw) {
        hwloc_topology_destroy(t->hw->topo);
        free(t->hw);
    }
    memset(t, 0, sizeof *t);
}

int hidp__topo_bind_thread(const hidp__topo *t, const int *pus, int n, hidp__err *err)
{
    if (!t || !t->hw || !pus || n <= 0)
        return hidp__fail(err, HIDP_EINVAL, "bind: no topology or no PUs given");
    if (!t->this_system)
        return hidp__fail(err, HIDP_EUNSUPPORTED,
                          "bind: the topology (%s) is not this machine's; "
                          "set HWLOC_THISSYSTEM=1 if it is",
                          t->source);
    hwloc_topology_t topo = t->hw->topo;
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (!set)
        return hidp__fail(err, HIDP_ENOMEM, "bind: out of memory");
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (pus[i] < 0 || !hwloc_get_pu_obj_by_os_index(topo, (unsigned)pus[i])) {
            rc = hidp__fail(err, HIDP_EINVAL, "bind: PU %d is not in the topology (%s)", pus[i],
                            t->source);
            goto done;
        }
        hwloc_bitmap_set(set, (unsigned)pus[i]);
    }
    if (hwloc_set_cpubind(topo, set, HWLOC_CPUBIND_THREAD) != 0) {
        char list[128];
        hwloc_bitmap_list_snprintf(list, sizeof list, set);
        rc = hidp__fail(err, HIDP_ESYSTEM, "bind: could not bind a thread to PUs %s: %s", list,
                        strerror(errno));
    }
done:
    hwloc_bitmap_free(set);
    return rc;
}

int hidp__topo_cache_dir(char *buf, size_t len, hidp__err *err)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    /* The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored. */
    if (xdg && xdg[0] == '/')
        n = snprintf(buf, len, "%s/hidp", xdg);
    else if (home && *home)
        n = snprintf(buf, len, "%s/.cache/hidp", home);
    else
        return hidp__fail(err, HIDP_EINVAL,
                          "cache directory: neither XDG_CACHE_HOME nor HOME "
                          "is set");
    if (n < 0 || (size_t)n >= len)
        return hidp__fail(err, HIDP_EINVAL, "cache directory: path longer than %zu bytes", len);
    return 0;
}

/* ---- Public API ---- */

int hidp_topology_load(hidp_context *ctx, hidp_topology **out)
{
    hidp__err err = {0, ""};
    if (!out)
        return hidp__ctx_fail(ctx, HIDP_EINVAL, "hidp_topology_load: out must not be NULL");
    *out = NULL;
    hidp_topology *topo = calloc(1, sizeof *topo);
    if (!topo)
        return hidp__ctx_fail(ctx, HIDP_ENOMEM, "hidp_topology_load: out of memory");
    int rc = hidp__topo_load(&topo->t, &err);
    if (rc) {
        free(topo);
        return hidp__ctx_error(ctx, rc, &err);
    }
    *out = topo;
    return 0;
}

void hidp_topology_destroy(hidp_topology *topo)
{
    if (!topo)
        return;
    hidp__topo_destroy(&topo->t);
    free(topo);
}

int hidp_topology_num_kinds(const hidp_topology *topo)
{
    return topo ? topo->t.n_kinds : 0;
}

int hidp_topology_kind(const hidp_topology *topo, int index, hidp_core_kind *kind)
{
    if (!topo || !kind || index < 0 || index >= topo->t.n_kinds)
        return HIDP_EINVAL;
    /* The public list is int32_t, the internal one int: the same type on every Linux ABI. */
    _Static_assert(sizeof(int) == sizeof(int32_t), "int must be 32 bits");
    const hidp__core_kind *k = &topo->t.kinds[index];
    memset(kind, 0, sizeof *kind);
    kind->pus = (const int32_t *)k->pus;
    kind->n_pus = k->n_pus;
    kind->cores = k->cores;
    kind->core_type = k->core_type;
    kind->frequency_max_mhz = k->frequency_max_mhz;
    kind->frequency_base_mhz = k->frequency_base_mhz;
    kind->linux_capacity = k->linux_capacity;
    kind->efficiency = k->efficiency;
    kind->speed = k->speed;
    kind->speed_alone = k->speed_alone;
    return 0;
}

const char *hidp_topology_source(const hidp_topology *topo)
{
    return topo ? topo->t.source : "";
}

int hidp_topology_cache_dir(hidp_context *ctx, char *buf, size_t len)
{
    hidp__err err = {0, ""};
    if (!buf || len == 0)
        return hidp__ctx_fail(ctx, HIDP_EINVAL, "hidp_topology_cache_dir: no buffer");
    int rc = hidp__topo_cache_dir(buf, len, &err);
    return rc ? hidp__ctx_error(ctx, rc, &err) : 0;
}

int hidp_topology_calibrate(hidp_context *ctx, hidp_topology *topo, int mode)
{
    hidp__err err = {0, ""};
    if (!topo || mode < HIDP_CALIB_CACHED || mode > HIDP_CALIB_FORCE)
        return hidp__ctx_fail(ctx, HIDP_EINVAL, "hidp_topology_calibrate: no topology, or mode %d "
                              "is not a hidp_calib_mode", mode);
    int rc = hidp__calibrate(&topo->t, mode, &err);
    return rc ? hidp__ctx_error(ctx, rc, &err) : 0;
}
