# Kernel density with R spatstat's density.ppp on a given pixel grid; called by run_peers.py.
#
#   Rscript spatstat_density.R IN.csv OUT.envi XMIN XMAX YMIN YMAX NROW NCOL SIGMA KERNEL
#
# IN.csv has a header and the columns x,y. The window is the rectangle XMIN..XMAX x YMIN..YMAX,
# divided into NROW x NCOL pixels (dimyx), so the pixel centres are XMIN + (j - 0.5) * dx, the
# same centres as the other tools' grids. SIGMA is spatstat's sigma: the standard deviation of
# the kernel (for kernel = "quartic" that is h / sqrt(8) for support radius h; see README.md).
# edge = FALSE: no edge correction, as the other tools.
#
# Writes OUT.envi (float64, row-major, north row first) with an ENVI header OUT.hdr that GDAL
# reads, and prints one line "PHASES read=<s> density=<s> write=<s>" (elapsed seconds).
suppressMessages({
    library(spatstat.geom)
    library(spatstat.explore)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 10) stop("usage: spatstat_density.R IN.csv OUT.envi XMIN XMAX YMIN YMAX NROW NCOL SIGMA KERNEL")
inp <- args[1]
out <- args[2]
xmin <- as.numeric(args[3]); xmax <- as.numeric(args[4])
ymin <- as.numeric(args[5]); ymax <- as.numeric(args[6])
nr <- as.integer(args[7]); nc <- as.integer(args[8])
sigma <- as.numeric(args[9])
kernel <- args[10]

t0 <- proc.time()[["elapsed"]]
d <- scan(inp, what = list(x = 0, y = 0), sep = ",", skip = 1, quiet = TRUE)
X <- ppp(d$x, d$y, window = owin(c(xmin, xmax), c(ymin, ymax)), check = FALSE)
t1 <- proc.time()[["elapsed"]]
D <- density(X, sigma = sigma, kernel = kernel, edge = FALSE, dimyx = c(nr, nc))
t2 <- proc.time()[["elapsed"]]
stopifnot(nrow(D$v) == nr, ncol(D$v) == nc)
m <- D$v[nr:1, , drop = FALSE] # spatstat's row 1 is the southernmost
con <- file(out, "wb")
writeBin(as.vector(t(m)), con, size = 8, endian = "little")
close(con)
dx <- (xmax - xmin) / nc
hdr <- sub("\\.[^.]*$", ".hdr", out)
writeLines(c("ENVI", sprintf("samples = %d", nc), sprintf("lines = %d", nr), "bands = 1",
             "header offset = 0", "file type = ENVI Standard", "data type = 5", "interleave = bsq",
             "byte order = 0",
             sprintf("map info = {Arbitrary, 1, 1, %.6f, %.6f, %.6f, %.6f}", xmin, ymax, dx, dx)), hdr)
t3 <- proc.time()[["elapsed"]]
cat(sprintf("PHASES read=%.3f density=%.3f write=%.3f\n", t1 - t0, t2 - t1, t3 - t2))
