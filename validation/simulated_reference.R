# metafor's ML and REML fits, run to tight convergence, of validation/simulated_data.csv.
# Usage (from the repository root): Rscript validation/simulated_reference.R
suppressPackageStartupMessages({ library(metafor); library(jsonlite) })
dat <- read.csv("validation/simulated_data.csv")
sets <- unique(dat$set)
# jsonlite prints at most 15 significant digits: write %.17g verbatim instead.
full <- function(x) structure(sprintf("%.17g", x), class = "json")
fit <- function(d, method) {
  f <- tryCatch(rma(d$yi, d$vi, method = method,
                    control = list(threshold = 1e-12, maxiter = 10000)),
                error = function(e) NULL)
  if (is.null(f)) return(list(tau2 = NA, loglik = NA))
  list(tau2 = full(f$tau2), loglik = full(as.numeric(logLik(f))))
}
out <- lapply(sets, function(s) {
  d <- dat[dat$set == s, ]
  list(ML = fit(d, "ML"), REML = fit(d, "REML"))
})
names(out) <- sets
meta <- list(R_version = R.version.string, metafor_version = as.character(packageVersion("metafor")),
             call = "rma(yi, vi, method=, control=list(threshold=1e-12, maxiter=10000))")
writeLines(toJSON(list(meta = meta, fits = out), auto_unbox = TRUE, na = "null", json_verbatim = TRUE),
           "validation/simulated_reference.json")
