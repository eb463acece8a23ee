#!/bin/sh
# plot_kernels.sh - bar charts (PNG and SVG) of a bench_kernels CSV run.
#
# usage: bench/plot_kernels.sh RUN.csv [OUT_PREFIX]
#
# RUN.csv is the output of `bench_kernels conv MODEL --csv`, `bench_kernels sgemm --csv` or
# `bench_kernels im2col --csv`. Writes OUT_PREFIX.png and OUT_PREFIX.svg (default: RUN without
# .csv): per layer (or shape) GFLOP/s of hidp's conv, hidp's sgemm and cblas_sgemm with the
# core's peak as a dashed line (im2col: GB/s of the packers against memcpy).
#
# Needs gnuplot (Debian/Ubuntu: apt-get install gnuplot-nox; Fedora: dnf install gnuplot;
# macOS: brew install gnuplot).
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
    awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"
    [ $# -ge 1 ] && { [ "$1" = "-h" ] || [ "$1" = "--help" ]; } && exit 0
    exit 2
fi
in=$1
out=${2:-${in%.csv}}
if [ ! -r "$in" ]; then
    echo "plot_kernels.sh: cannot read '$in'" >&2
    exit 1
fi
if ! command -v gnuplot >/dev/null 2>&1; then
    echo "plot_kernels.sh: gnuplot not found; install it (Debian/Ubuntu: apt-get install" \
         "gnuplot-nox)" >&2
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/plot_kernels.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Picks the named columns out of the CSV (quoted fields allowed) into a tab-separated file:
# label, then each series, then the peak; the summary rows (total, geomean) are left out. The
# first "# " comment line becomes the title.
extract() { # KIND LABEL_COL SERIES_COLS...
    awk -v kind="$1" -v cols="$(echo "$*" | cut -d' ' -f2-)" -v tsv="$tmp/data.tsv" \
        -v meta="$tmp/meta" '
    function split_csv(line, f,    n, i, c, q, cur) {
        n = 0; cur = ""; q = 0
        for (i = 1; i <= length(line); i++) {
            c = substr(line, i, 1)
            if (q) {
                if (c == "\"") { if (substr(line, i + 1, 1) == "\"") { cur = cur c; i++ } else q = 0 }
                else cur = cur c
            } else if (c == "\"") q = 1
            else if (c == ",") { f[++n] = cur; cur = "" }
            else cur = cur c
        }
        f[++n] = cur
        return n
    }
    /^#/ { if (!title) { title = substr($0, 3); print title > meta }; next }
    !header { nh = split_csv($0, h); for (i = 1; i <= nh; i++) idx[h[i]] = i
              nc = split(cols, want, " ")
              for (i = 1; i <= nc; i++) if (!(want[i] in idx)) {
                  print "plot_kernels.sh: the CSV has no column \"" want[i] "\"" > "/dev/stderr"
                  exit 3 }
              header = 1; next }
    { split_csv($0, f); if (f[1] != kind) next
      label = f[idx[want[1]]]
      sub(/^\//, "", label); sub(/\/Conv$/, "", label)
      # ONNX paths (layer1/layer1.0/conv1): the last two parts say enough.
      np = split(label, part, "/")
      if (np > 2) label = part[np - 1] "/" part[np]
      line = label
      for (i = 2; i <= nc; i++) line = line "\t" f[idx[want[i]]]
      print line > tsv; rows++ }
    END { if (header && !rows) { print "plot_kernels.sh: no \"" kind "\" rows" > "/dev/stderr"; exit 3 } }
    ' "$in"
}

header=$(grep -v '^#' "$in" | head -n 1)
case ",$header," in
*,conv_gflops,*)
    extract conv layer conv_gflops hidp_sgemm_gflops cblas_gflops peak_gflops
    t1="hidp conv" t2="hidp sgemm (same GEMM)" t3="cblas_sgemm (same GEMM)" nseries=3
    ylabel="GFLOP/s" ;;
*,hidp_gflops,*)
    extract sgemm shape hidp_gflops cblas_gflops peak_gflops
    t1="hidp sgemm" t2="cblas_sgemm" t3="" nseries=2
    ylabel="GFLOP/s" ;;
*,im2col_gbs,*)
    extract im2col c im2col_gbs pack_gbs memcpy_gbs
    t1="im2col packer" t2="plain-matrix packer" t3="memcpy" nseries=3
    ylabel="GB/s (packed bytes written)"
    # Rows are labelled by their shape, built from the CSV's own (numeric) columns.
    grep -v '^#' "$in" | awk -F, '$1 == "im2col" { print $2 "x" $3 "x" $4 " k" $5 " s" $6 }' \
        >"$tmp/labels"
    paste "$tmp/labels" "$tmp/data.tsv" | cut -f1,3- >"$tmp/d2"
    mv "$tmp/d2" "$tmp/data.tsv" ;;
*)
    echo "plot_kernels.sh: $in is not a bench_kernels CSV (conv, sgemm or im2col)" >&2
    exit 1 ;;
esac

rows=$(wc -l <"$tmp/data.tsv")
title=$(sed 's/["\\]//g; s/, median of.*//' "$tmp/meta" 2>/dev/null || true)
peak=""
[ "$ylabel" = "GFLOP/s" ] && peak=$(awk -F'\t' '$NF != "" { printf "%.1f", $NF; exit }' "$tmp/data.tsv")
# The y range covers the bars and the peak line.
ymax=$(awk -F'\t' -v n="$nseries" -v p="${peak:-0}" '
    BEGIN { m = p + 0 } { for (i = 2; i <= n + 1; i++) if ($i + 0 > m) m = $i + 0 }
    END { print (m > 0 ? m * 1.12 : 1) }' "$tmp/data.tsv")
width=$((rows * 12 * (nseries + 1) + 200))
[ "$width" -lt 800 ] && width=800

plot="plot '$tmp/data.tsv' using 2:xtic(1) title '$t1', '' using 3 title '$t2'"
[ "$nseries" -eq 3 ] && plot="$plot, '' using 4 title '$t3'"

for term in png svg; do
    if [ $term = png ]; then
        if gnuplot -e 'set terminal' 2>&1 | grep -q pngcairo; then
            setterm="set terminal pngcairo noenhanced size $width,600 font ',10'"
        else
            setterm="set terminal png noenhanced size $width,600"
        fi
    else
        setterm="set terminal svg noenhanced size $width,600 dynamic font 'sans,10'"
    fi
    {
        echo "$setterm"
        echo "set output '$out.$term'"
        echo "set datafile separator '\t'"
        echo "set title \"$title\" font ',9'"
        echo "set style data histograms"
        echo "set style histogram clustered gap 1"
        echo "set style fill solid 0.85 border -1"
        echo "set boxwidth 0.9"
        echo "set xtics rotate by -50 scale 0 font ',8'"
        echo "set grid ytics"
        echo "set ylabel '$ylabel'"
        echo "set key outside top center horizontal"
        echo "set bmargin 9"
        echo "set yrange [0:$ymax]"
        if [ -n "$peak" ]; then
            echo "set arrow from graph 0, first $peak to graph 1, first $peak nohead dt 2 lw 2 lc rgb 'red'"
            echo "set label 'core peak $peak GFLOP/s' at graph 0.01, first $peak offset 0,0.7 tc rgb 'red'"
        fi
        echo "$plot"
    } >"$tmp/plot.gp"
    gnuplot "$tmp/plot.gp"
done
echo "plot_kernels.sh: wrote $out.png and $out.svg"
