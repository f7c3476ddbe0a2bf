# Reference values for metasift's publication-bias and sensitivity methods, from R's metafor.
#
# Run from the repository root (needs Debian's r-base-core, r-cran-metafor 3.8-1 and
# r-cran-jsonlite):
#   Rscript validation/sensitivity_reference.R
# It writes validation/sensitivity_reference.json; tests/stats/test_bias.py and
# tests/stats/test_sensitivity.py read that file, so the test suite never needs R.
#
# The effect sizes are read from tests/data/metafor/metafor_reference.json (metafor's own
# escalc output), so both reference files describe exactly the same inputs. Sample sizes for
# the sample-size predictors come from the CSV files beside it.
#
# What is here (each entry records the R call that made it):
#   influence   influence() of intercept-only models: rstudent, dffits, cook.d, cov.r,
#               tau2.del, QE.del, hat, weight, dfbs and the "inf" flag;
#   fsn         fsn() with type Rosenthal (Stouffer and Fisher), Orwin, Rosenberg;
#   regtest     regtest() with the predictors sei, vi, ni, ninv, sqrtni, sqrtninv, models
#               "rma" and "lm", methods FE, DL, REML and test "knha";
#   modified    rma() with sqrt(1/n1i + 1/n2i) as the moderator (the Pustejovsky-Rodgers
#               predictor for SMDs, which regtest 3.8-1 does not offer);
#   pubbias_tight  regtest/trimfill of REML fits with a tight convergence criterion, for every
#               dataset and measure of metafor_reference.json;
#   leave1out_tight, cumul_tight   the same for leave1out() and cumul();
#   knha        leave1out/cumul/influence of fits with test="knha";
#   petpeese    PET and PEESE (regtest with model="lm" and predictors sei and vi);
#   published   raw data of published worked examples (dat.lau1992) with escalc's yi/vi.
# Doubles are written with sprintf("%.17g"), which round-trips exactly; NA/NaN -> null.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

data_dir <- file.path("tests", "data", "metafor")
out_file <- file.path("validation", "sensitivity_reference.json")
grid <- fromJSON(file.path(data_dir, "metafor_reference.json"), simplifyVector = TRUE)

#: metafor's defaults stop Fisher scoring when tau^2 changes by < 1e-5; "tight" fits run to 1e-12.
TIGHT <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)

# ---------------------------------------------------------------- JSON writer (no packages)
num_json <- function(x) {
  ifelse(is.na(x), "null",
         ifelse(is.infinite(x), ifelse(x > 0, "\"Inf\"", "\"-Inf\""), sprintf("%.17g", x)))
}
to_json <- function(x, indent = "") {
  inner <- paste0(indent, "  ")
  if (is.list(x)) {
    keys <- names(x)
    body <- vapply(seq_along(x), function(i) {
      paste0(inner, encodeString(keys[i], quote = "\""), ": ", to_json(x[[i]], inner))
    }, "")
    return(paste0("{\n", paste(body, collapse = ",\n"), "\n", indent, "}"))
  }
  if (inherits(x, "scalar")) {
    x <- unclass(x)
    if (is.null(x) || length(x) == 0) return("null")
    if (is.character(x)) return(encodeString(x, quote = "\""))
    if (is.logical(x)) return(if (is.na(x)) "null" else if (x) "true" else "false")
    return(num_json(x))
  }
  if (is.character(x)) return(paste0("[", paste(encodeString(x, quote = "\""), collapse = ", "), "]"))
  if (is.logical(x)) return(paste0("[", paste(ifelse(x, "true", "false"), collapse = ", "), "]"))
  if (length(x) == 0) return("[]")
  paste0("[", paste(num_json(as.numeric(x)), collapse = ", "), "]")
}
s <- function(x) structure(if (is.null(x)) NA else x, class = "scalar")
num <- function(x) as.numeric(unname(x))

# ---------------------------------------------------------------- inputs
inputs <- function(ds, measure) {
  e <- grid$datasets[[ds]][[measure]]$escalc
  list(yi = as.numeric(e$yi), vi = as.numeric(e$vi), slab = as.character(e$slab))
}
csv <- function(ds) read.csv(file.path(data_dir, paste0(ds, ".csv")))
# Total sample sizes (escalc's "ni" attribute) of the datasets used with sample-size predictors.
sample_sizes <- list(
  "dat.bcg" = with(csv("dat.bcg"), tpos + tneg + cpos + cneg),
  "dat.normand1999" = with(csv("dat.normand1999"), n1i + n2i),
  "dat.curtis1998" = with(csv("dat.curtis1998"), n1i + n2i),
  "dat.molloy2014" = csv("dat.molloy2014")$ni
)
group_sizes <- list(
  "dat.normand1999" = csv("dat.normand1999")[, c("n1i", "n2i")],
  "dat.curtis1998" = csv("dat.curtis1998")[, c("n1i", "n2i")]
)

fit <- function(d, method, test = "z", tight = FALSE) {
  if (tight) {
    rma(d$yi, d$vi, method = method, test = test, control = TIGHT)
  } else {
    rma(d$yi, d$vi, method = method, test = test)
  }
}

# ---------------------------------------------------------------- influence()
influence_entry <- function(ds, measure, method, test = "z", tight = FALSE) {
  d <- inputs(ds, measure)
  res <- fit(d, method, test, tight)
  inf <- influence(res)
  call <- sprintf("influence(rma(yi, vi, method='%s', test='%s'%s))", method, test,
                  if (tight) ", control=list(threshold=1e-12, tol=1e-12, maxiter=10000)" else "")
  list(dataset = s(ds), measure = s(measure), method = s(method), test = s(test),
       tight = s(tight), call = s(call), yi = d$yi, vi = d$vi,
       rstudent = num(inf$inf$rstudent), dffits = num(inf$inf$dffits),
       cook.d = num(inf$inf$cook.d), cov.r = num(inf$inf$cov.r),
       tau2.del = num(inf$inf$tau2.del), QE.del = num(inf$inf$QE.del),
       hat = num(inf$inf$hat), weight = num(inf$inf$weight),
       dfbs = num(inf$dfbs$intrcpt), inf = as.logical(inf$is.infl),
       full = list(estimate = s(num(res$beta)), se = s(res$se), tau2 = s(res$tau2)))
}
influence_out <- list(
  "dat.bcg/RR/REML" = influence_entry("dat.bcg", "RR", "REML"),
  "dat.bcg/RR/REML_tight" = influence_entry("dat.bcg", "RR", "REML", tight = TRUE),
  "dat.normand1999/SMD/DL" = influence_entry("dat.normand1999", "SMD", "DL"),
  "dat.normand1999/SMD/FE" = influence_entry("dat.normand1999", "SMD", "FE"),
  "dat.bcg/RR/DL_knha" = influence_entry("dat.bcg", "RR", "DL", test = "knha"),
  "dat.hackshaw1998/given/REML_tight" = influence_entry("dat.hackshaw1998", "given", "REML",
                                                        tight = TRUE),
  "dat.curtis1998/SMD/DL" = influence_entry("dat.curtis1998", "SMD", "DL")
)

# ---------------------------------------------------------------- fsn()
fsn_entry <- function(ds, measure, call, ...) {
  d <- inputs(ds, measure)
  r <- fsn(d$yi, d$vi, ...)
  list(dataset = s(ds), measure = s(measure), call = s(call), type = s(r$type),
       fsnum = s(r$fsnum), alpha = s(r$alpha), pval = s(r$pval), meanes = s(num(r$meanes)),
       target = s(num(r$target)))
}
fsn_out <- list()
for (key in list(c("dat.bcg", "RR"), c("dat.hackshaw1998", "given"),
                 c("dat.normand1999", "SMD"), c("dat.raudenbush1985", "given"),
                 c("dat.molloy2014", "ZCOR"), c("dat.curtis1998", "SMD"))) {
  ds <- key[1]; me <- key[2]; p <- paste0(ds, "/", me)
  fsn_out[[paste0(p, "/Rosenthal")]] <- fsn_entry(ds, me, "fsn(yi, vi)")
  fsn_out[[paste0(p, "/Rosenthal_alpha01")]] <- fsn_entry(ds, me, "fsn(yi, vi, alpha=0.01)",
                                                          alpha = 0.01)
  fsn_out[[paste0(p, "/Rosenthal_Fisher")]] <- fsn_entry(ds, me, "fsn(yi, vi, test='Fisher')",
                                                         test = "Fisher")
  fsn_out[[paste0(p, "/Orwin")]] <- fsn_entry(ds, me, "fsn(yi, vi, type='Orwin')",
                                              type = "Orwin")
  fsn_out[[paste0(p, "/Orwin_target")]] <- fsn_entry(
    ds, me, "fsn(yi, vi, type='Orwin', target=0.05)", type = "Orwin", target = 0.05)
  fsn_out[[paste0(p, "/Orwin_weighted")]] <- fsn_entry(
    ds, me, "fsn(yi, vi, type='Orwin', weighted=TRUE)", type = "Orwin", weighted = TRUE)
  fsn_out[[paste0(p, "/Rosenberg")]] <- fsn_entry(ds, me, "fsn(yi, vi, type='Rosenberg')",
                                                  type = "Rosenberg")
}

# ---------------------------------------------------------------- regtest()
regtest_fields <- function(r) {
  f <- r$fit
  if (r$model == "rma") {
    coefs <- list(beta = num(f$beta), se = num(f$se), tau2 = s(f$tau2))
  } else {
    cs <- coef(summary(f))
    coefs <- list(beta = num(cs[, 1]), se = num(cs[, 2]), tau2 = s(NA))
  }
  c(list(model = s(r$model), predictor = s(r$predictor), stat = s(num(r$zval)),
         pval = s(num(r$pval)), df = s(if (is.null(r$ddf) || is.na(r$ddf)) NA else r$ddf),
         est = s(num(r$est)), ci.lb = s(num(r$ci.lb)), ci.ub = s(num(r$ci.ub))), coefs)
}
regtest_entry <- function(ds, measure, method, predictor, model, test = "z", tight = FALSE) {
  d <- inputs(ds, measure)
  ni <- sample_sizes[[ds]]
  res <- fit(d, method, test, tight)
  r <- if (is.null(ni)) {
    regtest(res, model = model, predictor = predictor)
  } else {
    regtest(res, model = model, predictor = predictor, ni = ni)
  }
  call <- sprintf("regtest(rma(yi, vi, method='%s', test='%s'%s), model='%s', predictor='%s'%s)",
                  method, test, if (tight) ", control=<tight>" else "", model, predictor,
                  if (is.null(ni)) "" else ", ni=ni")
  c(list(dataset = s(ds), measure = s(measure), method = s(method), test = s(test),
         tight = s(tight), call = s(call), ni = if (is.null(ni)) numeric(0) else ni),
    regtest_fields(r))
}
regtest_out <- list()
for (key in list(c("dat.bcg", "RR"), c("dat.normand1999", "SMD"), c("dat.curtis1998", "SMD"),
                 c("dat.molloy2014", "ZCOR"))) {
  ds <- key[1]; me <- key[2]
  for (predictor in c("sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv")) {
    for (model in c("rma", "lm")) {
      for (mt in list(c("FE", "z", "0"), c("DL", "z", "0"), c("REML", "z", "1"),
                      c("DL", "knha", "0"), c("REML", "knha", "1"))) {
        if (model == "lm" && mt[1] != "FE") next  # lm does not depend on the method
        name <- paste(ds, me, predictor, model, paste0(mt[1], if (mt[2] == "knha") "_knha"),
                      sep = "/")
        if (mt[3] == "1") name <- paste0(name, "_tight")
        regtest_out[[name]] <- regtest_entry(ds, me, mt[1], predictor, model, test = mt[2],
                                             tight = mt[3] == "1")
      }
    }
  }
}

# ---------------------------------------------------------------- modified predictor (SMD)
modified_out <- list()
for (ds in c("dat.normand1999", "dat.curtis1998")) {
  d <- inputs(ds, "SMD")
  n <- group_sizes[[ds]]
  wse <- sqrt(1 / n$n1i + 1 / n$n2i)
  for (mt in c("FE", "DL", "REML")) {
    f <- if (mt == "REML") {
      rma(d$yi, d$vi, mods = ~ wse, method = mt, control = TIGHT)
    } else {
      rma(d$yi, d$vi, mods = ~ wse, method = mt)
    }
    modified_out[[paste(ds, "SMD", mt, sep = "/")]] <- list(
      call = s(sprintf("rma(yi, vi, mods = ~ sqrt(1/n1i + 1/n2i), method='%s'%s)", mt,
                       if (mt == "REML") ", control=<tight>" else "")),
      n1i = n$n1i, n2i = n$n2i, beta = num(f$beta), se = num(f$se), zval = num(f$zval),
      pval = num(f$pval), ci.lb = num(f$ci.lb), ci.ub = num(f$ci.ub), tau2 = s(f$tau2))
  }
}

# ---------------------------------------------------------------- tight pubbias of REML fits
trimfill_fields <- function(tf, estimator) {
  list(estimator = s(estimator), k0 = s(tf$k0), se.k0 = s(tf$se.k0), p.k0 = s(tf$p.k0),
       side = s(tf$side), k_total = s(tf$k), estimate = s(num(tf$beta)), se = s(tf$se),
       zval = s(tf$zval), pval = s(tf$pval), ci.lb = s(tf$ci.lb), ci.ub = s(tf$ci.ub),
       tau2 = s(tf$tau2), I2 = s(tf$I2), QE = s(tf$QE), QEp = s(tf$QEp),
       filled_yi = num(tf$yi[tf$fill]), filled_vi = num(tf$vi[tf$fill]))
}
pubbias_tight <- list()
for (ds in names(grid$datasets)) {
  for (me in names(grid$datasets[[ds]])) {
    d <- inputs(ds, me)
    res <- fit(d, "REML", tight = TRUE)
    rt <- regtest(res)
    tf_l0 <- trimfill(res, estimator = "L0", control = TIGHT)
    tf_r0 <- trimfill(res, estimator = "R0", control = TIGHT)
    pubbias_tight[[paste(ds, me, "REML_tight", sep = "/")]] <- list(
      call = s("res <- rma(yi, vi, control=TIGHT); regtest(res); trimfill(res, estimator, control=TIGHT)"),
      regtest = regtest_fields(rt),
      trimfill_L0 = trimfill_fields(tf_l0, "L0"),
      trimfill_R0 = trimfill_fields(tf_r0, "R0"))
  }
}

# ---------------------------------------------------------------- leave1out() / cumul()
l1o_fields <- function(l) {
  stat <- if (!is.null(l$zval)) l$zval else l$tval
  list(slab = as.character(l$slab), estimate = num(l$estimate), se = num(l$se),
       stat = num(stat), pval = num(l$pval), ci.lb = num(l$ci.lb), ci.ub = num(l$ci.ub),
       Q = num(l$Q), Qp = num(l$Qp), tau2 = if (is.null(l$tau2)) numeric(0) else num(l$tau2),
       I2 = num(l$I2), H2 = num(l$H2))
}
cumul_fields <- function(cm) {
  stat <- if (!is.null(cm$zval)) cm$zval else cm$tval
  list(slab = as.character(cm$slab), estimate = num(cm$estimate), se = num(cm$se),
       stat = num(stat), pval = num(cm$pvals), ci.lb = num(cm$ci.lb), ci.ub = num(cm$ci.ub),
       Q = num(cm$Q), Qp = num(cm$Qp), tau2 = if (is.null(cm$tau2)) numeric(0) else num(cm$tau2),
       I2 = num(cm$I2), H2 = num(cm$H2))
}
bcg_year <- csv("dat.bcg")$year
seq_out <- list()
for (mt in list(c("REML", "z", "1"), c("DL", "knha", "0"), c("REML", "knha", "1"))) {
  tight <- mt[3] == "1"
  tag <- paste0(mt[1], if (mt[2] == "knha") "_knha", if (tight) "_tight")
  d <- inputs("dat.normand1999", "SMD")
  d$slab <- as.character(seq_along(d$yi))
  res <- fit(d, mt[1], mt[2], tight)
  seq_out[[paste("leave1out", "dat.normand1999/SMD", tag, sep = "/")]] <- c(
    list(call = s(sprintf("leave1out(rma(yi, vi, method='%s', test='%s'%s))", mt[1], mt[2],
                          if (tight) ", control=<tight>" else ""))), l1o_fields(leave1out(res)))
  d <- inputs("dat.bcg", "RR")
  res <- fit(d, mt[1], mt[2], tight)
  seq_out[[paste("cumul", "dat.bcg/RR", tag, sep = "/")]] <- c(
    list(call = s(sprintf("cumul(rma(yi, vi, method='%s', test='%s'%s), order=year)", mt[1],
                          mt[2], if (tight) ", control=<tight>" else "")),
         order = bcg_year), cumul_fields(cumul(res, order = bcg_year)))
}

# ---------------------------------------------------------------- published example data
# Lau et al. (1992, NEJM 327:248-254): 33 streptokinase trials, already in year order.
lau <- dat.lau1992
lau_es <- escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = lau)
lau_fit <- rma(lau_es$yi, lau_es$vi, method = "FE", slab = lau$trial)
seq_out[["cumul/dat.lau1992/OR/FE"]] <- c(
  list(call = s("cumul(rma(yi, vi, method='FE'), order=year); yi, vi = escalc('OR', ai, n1i, ci, n2i)"),
       order = lau$year), cumul_fields(cumul(lau_fit, order = lau$year)))
published <- list(
  "dat.lau1992" = list(
    source = s("metadat 1.2.0 dat.lau1992 (Lau et al. 1992, NEJM 327:248-254)"),
    trial = as.character(lau$trial), year = lau$year, ai = lau$ai, n1i = lau$n1i,
    ci = lau$ci, n2i = lau$n2i, yi = num(lau_es$yi), vi = num(lau_es$vi)))

# ---------------------------------------------------------------- PET-PEESE
petpeese_out <- list()
for (key in list(c("dat.hackshaw1998", "given"), c("dat.curtis1998", "SMD"),
                 c("dat.bcg", "RR"), c("dat.curtis1998", "ROM"))) {
  d <- inputs(key[1], key[2])
  pet <- regtest(d$yi, d$vi, model = "lm", predictor = "sei")
  peese <- regtest(d$yi, d$vi, model = "lm", predictor = "vi")
  # the test of PET's intercept: coefficient 1 of the weighted regression (t with k-2 df)
  cs <- coef(summary(pet$fit))
  petpeese_out[[paste(key[1], key[2], sep = "/")]] <- list(
    call = s("regtest(yi, vi, model='lm', predictor='sei') and predictor='vi'"),
    pet = regtest_fields(pet), peese = regtest_fields(peese),
    pet_intercept_tval = s(cs[1, 3]), pet_intercept_pval = s(cs[1, 4]))
}

# ---------------------------------------------------------------- write
meta <- list(
  generator = s("validation/sensitivity_reference.R"),
  R_version = s(R.version.string),
  metafor_version = s(as.character(packageVersion("metafor"))),
  metadat_version = s(as.character(packageVersion("metadat"))),
  jsonlite_version = s(as.character(packageVersion("jsonlite"))),
  platform = s(R.version$platform),
  inputs = s("yi/vi of tests/data/metafor/metafor_reference.json (escalc output); ni from the CSVs"),
  tight = s("control=list(threshold=1e-12, tol=1e-12, maxiter=10000)"),
  number_format = s("sprintf('%.17g'); NA/NaN -> null")
)
out <- list(meta = meta, influence = influence_out, fsn = fsn_out, regtest = regtest_out,
            modified = modified_out, pubbias_tight = pubbias_tight, sequential = seq_out,
            petpeese = petpeese_out, published = published)
writeLines(to_json(out), out_file)
cat("wrote", out_file, "\n")
