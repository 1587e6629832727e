#!/bin/sh
# GRASS GIS v.kernel on a given grid; called by run_peers.py inside a fresh GRASS location:
#
#   grass -c EPSG:27700 DBASE/LOCATION --exec sh grass_vkernel.sh IN.csv OUT.tif W S E N RES RADIUS KERNEL
#
# IN.csv has a header and the columns x,y (EPSG:27700 metres). The region is W..E x S..N at RES,
# so the cell centres are W + (c + 0.5) * RES, the same centres as the other tools' grids.
# Prints one line "PHASES import=<s> kernel=<s> export=<s>" (elapsed seconds).
set -e
in=$1 out=$2 w=$3 s=$4 e=$5 n=$6 res=$7 radius=$8 kernel=$9
now() { date +%s.%N; }
t0=$(now)
v.in.ascii input="$in" output=pts separator=comma skip=1 x=1 y=2 -t --quiet
t1=$(now)
g.region w="$w" s="$s" e="$e" n="$n" res="$res" --quiet
v.kernel input=pts output=density radius="$radius" kernel="$kernel" --quiet
t2=$(now)
r.out.gdal -c input=density output="$out" format=GTiff type=Float64 --quiet
t3=$(now)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN { printf "PHASES import=%.3f kernel=%.3f export=%.3f\n", b - a, c - b, d - c }'
