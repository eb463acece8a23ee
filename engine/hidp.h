/*
 * hidp.h - the one public header of libhidp, a CNN inference engine for Linux edge boards.
 *
 * Lifecycle (as in XNNPACK): create a context, load a model, set input shapes and prepare
 * (shape inference, constant folding, memory plan), then set inputs, run, read outputs as often
 * as you like. Functions return 0 on success or a negative HIDP_E* code; the context keeps a
 * message that says what failed and where (hidp_context_last_error). The library never prints
 * to stdout and never exits the process.
 */
#ifndef HIDP_H
#define HIDP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HIDP_VERSION_MAJOR 0
#define HIDP_VERSION_MINOR 1
#define HIDP_VERSION_PATCH 0

/* Largest tensor rank hidp handles. */
#define HIDP_MAX_DIMS 8

/* Error codes: every failing call returns one of these (all negative). */
enum hidp_error {
    HIDP_OK = 0,
    HIDP_EINVAL = -1,      /* a bad argument from the caller */
    HIDP_ENOMEM = -2,      /* out of memory */
    HIDP_EIO = -3,         /* a file could not be opened, read or written */
    HIDP_EFORMAT = -4,     /* a file is malformed (truncated, corrupted, not what it claims) */
    HIDP_EUNSUPPORTED = -5, /* a valid model uses something hidp does not implement */
    HIDP_ESHAPE = -6,      /* tensor shapes or types do not fit together */
    HIDP_ESTATE = -7,      /* calls made in the wrong order (e.g. run before prepare) */
    HIDP_ESYSTEM = -8      /* the OS refused (threads, affinity) */
};

/* A short English description of an error code; never NULL. */
const char *hidp_strerror(int code);

/* Version string, e.g. "0.1.0". */
const char *hidp_version(void);

/* ---- Context: owns the worker threads, the log callback and the last error message. ---- */

typedef struct hidp_context hidp_context;

enum hidp_log_level { HIDP_LOG_ERROR = 0, HIDP_LOG_WARN = 1, HIDP_LOG_INFO = 2, HIDP_LOG_DEBUG = 3 };
typedef void (*hidp_log_fn)(void *user, int level, const char *message);

/* Creates a context. flags must be 0. The caller owns *out and frees it with
 * hidp_context_destroy. */
int hidp_context_create(hidp_context **out, uint32_t flags);
void hidp_context_destroy(hidp_context *ctx);

/* The message of the last failed call made with this context ("" if none). Valid until the next
 * call that uses the context. */
const char *hidp_context_last_error(const hidp_context *ctx);

/* Routes the library's log messages to fn (NULL: drop them, the default). */
void hidp_context_set_log(hidp_context *ctx, hidp_log_fn fn, void *user, int max_level);

/* Number of worker threads that split each layer, 1 to 256 (default 1); the calling thread is
 * one of them. Takes effect at the next hidp_model_prepare. */
int hidp_context_set_threads(hidp_context *ctx, int threads);

/* Which cores the workers run on: "all" (the default), "big" (the fastest kind of core),
 * "little" (the slowest kind), or a list of PU numbers such as "0,2-3". Checked at the next
 * hidp_model_prepare (HIDP_EINVAL there for a PU the board does not have). */
int hidp_context_set_cores(hidp_context *ctx, const char *cores);

/* How each layer is shared among the workers. HIDP_SPLIT_CALIBRATED (the default): in
 * proportion to the measured speed of each worker's kind of core (measured once per board,
 * about 0.1 s, and cached: see hidp_topology_calibrate); HIDP_SPLIT_EQUAL: equal shares. */
enum hidp_split { HIDP_SPLIT_CALIBRATED = 0, HIDP_SPLIT_EQUAL = 1 };
int hidp_context_set_split(hidp_context *ctx, int split);

/* Whether the runs after each prepare refine its plan by measurement: HIDP_TUNE_ON (the
 * default; any nonzero value not listed), HIDP_TUNE_OFF (the plan estimated at prepare, every
 * run alike) or HIDP_TUNE_FIXED. While tuning, each run is a trial: every layer split, then every
 * layer on the fastest core alone, five times, and each layer keeps the faster way; then blocks
 * of whole runs compare that plan with the estimated one and, with cores of unequal speed, with
 * the slower cores' shares scaled, and the fastest stays. With one worker there is nothing to
 * tune. After tuning, with cores of unequal speed and fixed shares (more than two workers, or
 * hidp_context_set_take_back off), HIDP_TUNE_ON goes on watching the slower cores: when a run
 * finds them off their CPU in the middle of their work (a CPU quota spent, another process),
 * their shares shrink in proportion, and grow back slowly once runs are clean again. It also
 * keeps the tuning's last few candidate plans and times them again, in short turns of ordinary
 * runs, when the runs drift more than 10% from the time the plan was chosen on (or every 30 s of
 * runs), keeping the fastest: a machine whose speed changes (a VM's host, a thermal cap) can make
 * another plan the better one. HIDP_TUNE_FIXED keeps the tuned plan as it is. The outputs are
 * right in every run; only the time varies. See hidp_model_tune. */
enum { HIDP_TUNE_OFF = 0, HIDP_TUNE_ON = 1, HIDP_TUNE_FIXED = 2 };
int hidp_context_set_tuning(hidp_context *ctx, int on);

/* With two workers on cores of unequal speed, whether the faster one may take back the slower
 * one's share of a convolution (on, the default): the slower worker computes its share aside,
 * in chunks, and the faster one, done with its own, runs those the slower has not started, or
 * has been running for half as long again as its speed says (a CPU quota spent, a preemption);
 * the slower one's late result is dropped. A core that stops for milliseconds then delays a
 * layer by one late chunk, not by its whole stop. Off: the shares are fixed, each worker waits
 * for the other at the end of a layer, and HIDP_TUNE_ON's backing off is what adapts them. Takes
 * effect at the next hidp_model_prepare. */
int hidp_context_set_take_back(hidp_context *ctx, int on);

/* With take-back on, whether the slower worker may be given stripes (on, the default): the
 * bottom rows of a run of layers (an inverted-residual block, a bottleneck) through all of them
 * at once, in memory of its own, instead of a share of each layer; one hand-off per run of
 * layers instead of one per layer. The tuning then compares the plan it chose with and without
 * them. Off: every layer is shared on its own. Takes effect at the next hidp_model_prepare. */
int hidp_context_set_stripes(hidp_context *ctx, int on);

/* ---- Model ---- */

typedef struct hidp_model hidp_model;

/* Shape of a tensor; a negative dim is dynamic (bound by the input given to prepare). */
typedef struct hidp_tensor_info {
    const char *name;
    int32_t ndim;
    int64_t dims[HIDP_MAX_DIMS];
} hidp_tensor_info;

/* Loads an ONNX model from a file or from memory (the buffer is not kept). The model refers to
 * ctx, which must outlive it. The caller owns *out (hidp_model_destroy). A model that uses ops
 * hidp does not implement still loads (so tools can describe it); hidp_model_prepare then fails
 * with HIDP_EUNSUPPORTED and a message naming every unsupported op and its node. Attributes an
 * op does not accept fail the load. */
int hidp_model_load(hidp_context *ctx, const char *path, hidp_model **out);
int hidp_model_load_memory(hidp_context *ctx, const void *data, size_t size, hidp_model **out);
void hidp_model_destroy(hidp_model *model);

int hidp_model_num_inputs(const hidp_model *model);
int hidp_model_num_outputs(const hidp_model *model);
/* Declared shapes before prepare, bound shapes after. Strings stay owned by the model. */
int hidp_model_input_info(const hidp_model *model, int index, hidp_tensor_info *info);
int hidp_model_output_info(const hidp_model *model, int index, hidp_tensor_info *info);

/* Binds the shape of input `index` (dynamic dims take the given values; fixed dims must match,
 * else HIDP_ESHAPE). Takes effect at the next hidp_model_prepare, so a prepared model can be
 * prepared again for another batch size. */
int hidp_model_set_input_shape(hidp_model *model, int index, const int64_t *dims, int32_t ndim);

/* Infers every shape, folds constants and plans memory. Inputs whose shape was not set use their
 * declared shape with dynamic dims as 1. Allocates everything the forward path needs. */
int hidp_model_prepare(hidp_model *model);

/* Copies count floats of input `index` into the model (count must equal the bound shape's). The
 * input stays set across runs until the next set_input or prepare. */
int hidp_model_set_input(hidp_model *model, int index, const float *data, size_t count);

/* Runs the forward pass. Allocates nothing. The first runs after a prepare may be tuning trials
 * (hidp_context_set_tuning). */
int hidp_model_run(hidp_model *model);

/* Makes the tuning runs that are left now (each a full forward pass on the current input), so
 * that every later hidp_model_run uses the tuned plan. Returns how many runs it made (0 when
 * there is nothing to tune: one worker, tuning off, or done) or a negative error. */
int hidp_model_tune(hidp_model *model);

/* Points *data at output `index` (owned by the model, valid until the next run or prepare) and
 * sets *count to its element count. */
int hidp_model_output(const hidp_model *model, int index, const float **data, size_t *count);

/* Per-layer description after prepare, for tools (hidp info). */
typedef struct hidp_layer_info {
    const char *name;       /* node name */
    const char *op_type;    /* ONNX op type */
    const char *fused;      /* fused activation ("" if none) */
    int32_t ndim;           /* output shape */
    int64_t dims[HIDP_MAX_DIMS];
    double mflops;          /* multiply-adds count twice */
    int64_t params;         /* weight elements */
    char detail[96];        /* e.g. "k3x3 s2 p1 g1" */
} hidp_layer_info;
int hidp_model_num_layers(const hidp_model *model);
int hidp_model_layer_info(const hidp_model *model, int index, hidp_layer_info *info);

/* ---- Per-layer profiling ---- */

#define HIDP_MAX_EVENTS 8

/* Starts (on != 0) or stops per-layer profiling of a prepared model. While on, every run
 * (tuning trials aside) adds up, per layer, its wall time and each worker's time in its slice,
 * and the counts of `events`: a comma-separated list of PAPI event names (PAPI_TOT_CYC, ...),
 * Linux software events (task-clock, cpu-clock, page-faults, context-switches,
 * cpu-migrations), or "default" (cycles, instructions, L1 and last-level misses and the first
 * three software events); NULL or "" counts nothing. Events this machine cannot count are left
 * out, logged once and named by hidp_model_profile_missing. Starting resets the sums; a prepare
 * stops profiling. HIDP_ESTATE before prepare, HIDP_EINVAL for a malformed list. */
int hidp_model_profile(hidp_model *model, int on, const char *events);

/* The events that count (names owned by the model), and those left out with the reason
 * ("" when none). */
int hidp_model_profile_num_events(const hidp_model *model);
const char *hidp_model_profile_event(const hidp_model *model, int index);
const char *hidp_model_profile_missing(const hidp_model *model);

/* Sums over the profiled runs. */
typedef struct hidp_layer_profile {
    int32_t runs;            /* runs summed */
    int32_t workers;         /* workers with a share of the layer in the last run */
    double wall_ms;          /* from the end of the layer before to the end of this one, as the
                              * calling thread saw it (barrier waits included): the layers' wall
                              * times add up to the runs' */
    double busy_ms;          /* the workers' time in their slices, all workers */
    int64_t counts[HIDP_MAX_EVENTS]; /* events, all workers */
} hidp_layer_profile;

typedef struct hidp_worker_profile {
    int32_t pu;              /* the PU the worker is bound to, -1 when unbound */
    double start_us, end_us; /* last run: its slice of the layer, from that run's start */
    double busy_ms;          /* summed over the runs */
    int64_t counts[HIDP_MAX_EVENTS];
} hidp_worker_profile;

/* HIDP_ESTATE when profiling is off, HIDP_EINVAL for an index out of range. */
int hidp_model_profile_layer(const hidp_model *model, int layer, hidp_layer_profile *out);
int hidp_model_profile_worker(const hidp_model *model, int layer, int worker,
                              hidp_worker_profile *out);
/* Workers of the prepared model; total wall time of the profiled runs (ms) and their count. */
int hidp_model_num_workers(const hidp_model *model);
double hidp_model_profile_total_ms(const hidp_model *model, int32_t *runs);

/* ---- Energy: the board's power sensors ---- */

/* Power rails found under a sysfs root: hwmon ina2xx (INA219/226...), hwmon ina3221, Jetson's
 * legacy iio ina3221x, and Intel RAPL powercap zones, by driver name and label. sysfs_root NULL
 * means $HIDP_SYSFS_ROOT, or the real /sys when that is unset; a root that does not exist is
 * HIDP_EIO. No rail at all is not an error (hidp_energy_num_rails is 0). The caller owns *out
 * (hidp_energy_close). */
typedef struct hidp_energy hidp_energy;
int hidp_energy_open(hidp_context *ctx, const char *sysfs_root, hidp_energy **out);
void hidp_energy_close(hidp_energy *energy);
/* The root searched ("/" for the real system) and the rails found. */
const char *hidp_energy_root(const hidp_energy *energy);
int hidp_energy_num_rails(const hidp_energy *energy);

typedef struct hidp_rail_info {
    const char *name;   /* VDD_IN, POM_5V_GPU, package-0/core, ina226, ... */
    const char *kind;   /* "ina2xx", "ina3221", "ina3221x", "rapl" */
    const char *error;  /* "" when readable, else why not (such a rail is never sampled) */
    double joules;      /* over the last start..stop */
    double watts;
    int32_t in_total;   /* counted in the last report's total */
} hidp_rail_info;
int hidp_energy_rail(const hidp_energy *energy, int index, hidp_rail_info *out);

/* Samples every rail every period_us microseconds (0: 10 ms) on a thread of its own from start
 * to stop, integrating power over time (counters for RAPL, wrap-around included). The total
 * never counts a joule twice: the input rails (VDD_IN, POM_5V_IN, RAPL psys) when there are any,
 * else the top-level RAPL domains, else the sum of the rails. */
typedef struct hidp_energy_report {
    double seconds;
    double total_joules, total_watts;
    const char *total_rule; /* "input rails", "RAPL packages", "sum of rails", "none" */
} hidp_energy_report;
int hidp_energy_start(hidp_energy *energy, uint32_t period_us);
int hidp_energy_stop(hidp_energy *energy, hidp_energy_report *out);

/* ---- NumPy .npy files (float32, little-endian, C order) ---- */

typedef struct hidp_array {
    int32_t ndim;
    int64_t dims[HIDP_MAX_DIMS];
    float *data;          /* owned by the array: hidp_array_free */
} hidp_array;

/* Reads a .npy file; anything but little-endian float32 in C order is refused with HIDP_EFORMAT.
 * ctx may be NULL (no message kept). The caller frees out with hidp_array_free. */
int hidp_npy_load(hidp_context *ctx, const char *path, hidp_array *out);
/* Writes a .npy file atomically (a temporary file renamed into place), so a failure leaves no
 * partial output. */
int hidp_npy_save(hidp_context *ctx, const char *path, const float *data, const int64_t *dims,
                  int32_t ndim);
void hidp_array_free(hidp_array *a);

/* ---- Model zoo: torchvision-shaped CNNs with seeded random weights, no downloads ---- */

/* Number of zoo models; hidp_zoo_name(i) names model i ("resnet18", ...), NULL out of range. */
int hidp_zoo_count(void);
const char *hidp_zoo_name(int index);

/* Builds zoo model `name` as a standard ONNX file in memory: torchvision's layer shapes, weights
 * drawn from a generator seeded by `seed` (the same seed gives the same bytes), BatchNorm
 * statistics calibrated so activations stay near unit scale. image_size is the input's height
 * and width (0: 224; at most 2048; too small for the model's pools: HIDP_EINVAL naming the
 * layer and the smallest size that works). The caller frees *onnx with hidp_free. Unknown name:
 * HIDP_EINVAL with a message listing the names. */
int hidp_zoo_build(hidp_context *ctx, const char *name, uint64_t seed, int32_t image_size,
                   void **onnx, size_t *size);

/* Frees memory the library handed to the caller (hidp_zoo_build). NULL is fine. */
void hidp_free(void *p);

/* ---- Topology: the board's kinds of cores (big/little, P/E), found with hwloc ---- */

/* hwloc honours HWLOC_XMLFILE (describe the board a saved XML topology describes) and
 * HWLOC_THISSYSTEM=1 (that XML is this machine: binding is real). */
typedef struct hidp_topology hidp_topology;

/* One kind of identical cores. Pointers stay owned by the topology. */
typedef struct hidp_core_kind {
    const int32_t *pus;         /* OS indices of its PUs (Linux CPU numbers), ascending */
    int32_t n_pus;
    int32_t cores;              /* physical cores (SMT siblings count once) */
    const char *core_type;      /* hwloc's CoreType ("IntelCore", "Cortex-A76"...), "" unknown */
    int32_t frequency_max_mhz;  /* 0 unknown */
    int32_t frequency_base_mhz; /* 0 unknown */
    int32_t linux_capacity;     /* Linux cpu_capacity (1024 = biggest core), 0 unknown */
    int32_t efficiency;         /* hwloc's rank, 0 = least performant: an order, not a speed;
                                 * -1 unknown */
    double speed;               /* calibrated: GFLOP/s per PU with every PU busy, 0 not yet */
    double speed_alone;         /* calibrated: GFLOP/s of one PU by itself, 0 not yet */
} hidp_core_kind;

/* Discovers the topology. Kinds are ordered fastest first (highest hwloc efficiency, else Linux
 * capacity, else frequency); every PU is in exactly one kind, and a board hwloc says nothing
 * about is one kind. The caller owns *out (hidp_topology_destroy). ctx may be NULL. */
int hidp_topology_load(hidp_context *ctx, hidp_topology **out);
void hidp_topology_destroy(hidp_topology *topo);

int hidp_topology_num_kinds(const hidp_topology *topo);
/* Fills *kind with kind `index` (0 = fastest); HIDP_EINVAL out of range. */
int hidp_topology_kind(const hidp_topology *topo, int index, hidp_core_kind *kind);
/* Where the topology came from: "this system", "XML file PATH"...; owned by the topology. */
const char *hidp_topology_source(const hidp_topology *topo);

/* Fills the kinds' speeds. HIDP_CALIB_CACHED: from this board's calibration file in the cache
 * directory if there is one (measures nothing; no file is not an error). HIDP_CALIB_AUTO: from
 * the file, or else by timing a representative convolution GEMM on one PU of each kind, then on
 * every PU at once (about 40 ms each), writing the file. HIDP_CALIB_FORCE: times and rewrites.
 * Timing needs the topology to be this machine's (HIDP_EUNSUPPORTED for another board's XML). */
enum hidp_calib_mode { HIDP_CALIB_CACHED = 0, HIDP_CALIB_AUTO = 1, HIDP_CALIB_FORCE = 2 };
int hidp_topology_calibrate(hidp_context *ctx, hidp_topology *topo, int mode);

/* Writes the directory per-board calibration results are cached in ($XDG_CACHE_HOME/hidp, else
 * $HOME/.cache/hidp) into buf; does not create it. */
int hidp_topology_cache_dir(hidp_context *ctx, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* HIDP_H */
