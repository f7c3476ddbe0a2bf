# Times metafor's rma() on the data of benchmarks/batch.py and writes its estimates.
# Usage: Rscript benchmarks/metafor_batch.R DIR   (DIR holds y.csv and v.csv, k rows x d columns)
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
y <- as.matrix(read.csv(file.path(dir, "y.csv"), header = FALSE))
v <- as.matrix(read.csv(file.path(dir, "v.csv"), header = FALSE))
d <- ncol(y)

fit_all <- function(method, control = list(), cols = seq_len(d)) {
  out <- matrix(NA_real_, length(cols), 2, dimnames = list(NULL, c("tau2", "estimate")))
  for (i in seq_along(cols)) {
    j <- cols[i]
    fit <- tryCatch(rma(y[, j], v[, j], method = method, control = control),
                    error = function(e) NULL)
    if (!is.null(fit)) out[i, ] <- c(fit$tau2, fit$b[1])
  }
  out
}

for (method in c("DL", "REML")) {
  elapsed <- system.time(res <- fit_all(method))[["elapsed"]]
  cat(sprintf("metafor %s %s seconds %.3f failed %d\n", packageVersion("metafor"), method,
              elapsed, sum(is.na(res[, 1]))))
}
# Well-converged reference for an accuracy check on the first 1,000 data sets.
tight <- fit_all("REML", control = list(threshold = 1e-12, maxiter = 10000), cols = 1:1000)
write.csv(tight, file.path(dir, "metafor_reml_tight.csv"), row.names = FALSE)
