# Reference values for metasift's effect sizes and conversions, from R's metafor.
#
# Run from the repository root (needs Debian's r-base-core and r-cran-metafor, metafor 3.8-1):
#   Rscript validation/effects_reference.R
# It writes validation/effects_reference.json; tests/stats/test_effects.py and
# tests/stats/test_conversions.py read that file, so the test suite never needs R.
#
# Every case records where its numbers come from:
#   "escalc"      - returned by metafor::escalc() as called (the call is recorded);
#   "derived"     - computed here from escalc's own output with the formula recorded, for
#                   settings metafor 3.8-1 does not offer (approximate J, Cohen's d, RevMan 5);
#   "formula"     - computed here with R's quantile functions from the published formula
#                   (conversions that metafor 3.8-1 does not have).
# Doubles are written with sprintf("%.17g"), which round-trips exactly; NA/NaN -> null.

suppressPackageStartupMessages(library(metafor))

data_dir <- file.path("tests", "data", "metafor")
out_file <- file.path("validation", "effects_reference.json")

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
    if (is.character(x)) return(encodeString(x, quote = "\""))
    if (is.logical(x)) return(if (x) "true" else "false")
    return(num_json(x))
  }
  if (is.character(x)) return(paste0("[", paste(encodeString(x, quote = "\""), collapse = ", "), "]"))
  if (is.logical(x)) return(paste0("[", paste(ifelse(x, "true", "false"), collapse = ", "), "]"))
  paste0("[", paste(num_json(as.numeric(x)), collapse = ", "), "]")
}
s <- function(x) structure(x, class = "scalar")  # a JSON scalar rather than an array

case <- function(source, call, yi, vi, ...) {
  list(source = s(source), call = s(call), yi = as.numeric(yi), vi = as.numeric(vi), ...)
}

# ---------------------------------------------------------------- SMD: vtypes and corrections
# Numbers for correction = "approx" and None (Cohen's d) are derived from escalc's d:
# d = yi / J_exact, with J_exact from metafor's own .cmicalc (escalc's exact factor).
smd_cases <- function(dat) {
  m <- dat$n1i + dat$n2i - 2
  N <- dat$n1i + dat$n2i
  a <- 1 / dat$n1i + 1 / dat$n2i
  je <- metafor:::.cmicalc(m)
  call_of <- function(vt) sprintf("escalc('SMD', m1i, sd1i, n1i, m2i, sd2i, n2i, vtype='%s')", vt)
  out <- list()
  ls <- NULL
  for (vt in c("LS", "LS2", "UB", "AV")) {
    es <- escalc("SMD", m1i = dat$m1i, sd1i = dat$sd1i, n1i = dat$n1i,
                 m2i = dat$m2i, sd2i = dat$sd2i, n2i = dat$n2i, vtype = vt)
    out[[paste0("exact_", vt)]] <- case("escalc", call_of(vt), es$yi, es$vi,
                                        correction = s("exact"), vtype = s(vt))
    if (vt == "LS") ls <- es
  }
  d <- as.numeric(ls$yi) / je
  factors <- list(approx = 1 - 3 / (4 * m - 1), none = rep(1, length(m)))
  for (corr in names(factors)) {
    cf <- factors[[corr]]
    y <- cf * d
    ybar <- weighted.mean(y, N, na.rm = TRUE)
    ybar_note <- "ybar = weighted.mean(y, n1i + n2i, na.rm = TRUE)"
    v <- list(
      LS = a + y^2 / (2 * N),
      LS2 = cf^2 * (a + d^2 / (2 * N)),
      UB = cf^2 * (a / je^2 + (1 - (m - 2) / (m * je^2)) * d^2),
      AV = a + ybar^2 / (2 * N)
    )
    notes <- list(
      LS = "vi = a + y^2/(2N)", LS2 = "vi = c^2 (a + d^2/(2N))",
      UB = "vi = c^2 (a/J_exact^2 + (1 - (m-2)/(m J_exact^2)) d^2)",
      AV = paste("vi = a + ybar^2/(2N),", ybar_note)
    )
    for (vt in names(v)) {
      formula <- paste0("d = escalc yi / .cmicalc(m); c = ",
                        if (corr == "approx") "1 - 3/(4m - 1)" else "1",
                        "; y = c d; a = 1/n1 + 1/n2; N = n1 + n2; ", notes[[vt]])
      out[[paste0(corr, "_", vt)]] <- case("derived", formula, y, v[[vt]],
                                           correction = s(corr), vtype = s(vt))
    }
  }
  g <- factors$approx * d
  out[["revman5"]] <- case(
    "derived", "RevMan 5: g = d (1 - 3/(4N - 9)); vi = N/(n1 n2) + g^2/(2 (N - 3.94))",
    g, N / (dat$n1i * dat$n2i) + g^2 / (2 * (N - 3.94)), convention = s("revman5"))
  out[["cma"]] <- case(
    "derived", "CMA: J = 1 - 3/(4m - 1); g = J d; vi = J^2 (N/(n1 n2) + d^2/(2N))",
    g, factors$approx^2 * (N / (dat$n1i * dat$n2i) + d^2 / (2 * N)), convention = s("cma"))
  out
}

msd_columns <- c("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")
normand <- read.csv(file.path(data_dir, "dat.normand1999.csv"))
curtis <- read.csv(file.path(data_dir, "dat.curtis1998.csv"))
# Small groups (m = 2 and 3), both signs, one study with a missing mean (NA propagates and
# is left out of the AV weighted mean), unequal group sizes.
small <- data.frame(
  m1i = c(10, 4.2, 7, 0.5, 12, 3.3, 25),
  sd1i = c(2, 1.1, 3, 0.4, 4, 0.9, 6),
  n1i = c(2, 3, 5, 12, 40, 8, 150),
  m2i = c(8, 5.0, 7.5, 0.1, NA, 2.1, 24),
  sd2i = c(3, 0.8, 2, 0.5, 5, 1.2, 7),
  n2i = c(2, 2, 6, 10, 35, 9, 140)
)
smd_sets <- list(
  dat.normand1999 = list(inputs = as.list(normand[msd_columns]), cases = smd_cases(normand)),
  dat.curtis1998 = list(inputs = as.list(curtis[msd_columns]), cases = smd_cases(curtis)),
  small = list(inputs = as.list(small), cases = smd_cases(small))
)

md_ho <- escalc("MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                data = normand, vtype = "HO")
md_cases <- list(dataset = s("dat.normand1999"),
                 HO = case("escalc", "escalc('MD', ..., vtype='HO')", md_ho$yi, md_ho$vi))

# ---------------------------------------------------------------- SMD from t and from p
t_in <- list(ti = c(2.5, -1.3, 0.4, 3.8, -0.05), n1i = c(20, 30, 12, 60, 4),
             n2i = c(22, 28, 15, 55, 3))
smd_t <- list(inputs = t_in)
for (vt in c("LS", "LS2", "UB")) {
  es <- escalc("SMD", ti = t_in$ti, n1i = t_in$n1i, n2i = t_in$n2i, vtype = vt)
  smd_t[[vt]] <- case("escalc", sprintf("escalc('SMD', ti, n1i, n2i, vtype='%s')", vt),
                      es$yi, es$vi)
}

# The first study is the Cochrane Handbook's example (section 6.5.2.3): P = 0.008, 25 and 22.
p_in <- list(p = c(0.008, 0.04, 0.3, 0.5, 0.9), n1i = c(25, 30, 12, 60, 8),
             n2i = c(22, 28, 15, 55, 9))
smd_p <- list(inputs = p_in)
df <- p_in$n1i + p_in$n2i - 2
for (sided in c("two", "one")) {
  tt <- if (sided == "two") qt(p_in$p / 2, df, lower.tail = FALSE)
        else qt(p_in$p, df, lower.tail = FALSE)
  es <- escalc("SMD", ti = tt, n1i = p_in$n1i, n2i = p_in$n2i)
  smd_p[[paste0(sided, "_sided")]] <- case(
    "escalc",
    sprintf("ti = qt(%s, n1i + n2i - 2, lower.tail = FALSE); escalc('SMD', ti, n1i, n2i)",
            if (sided == "two") "p/2" else "p"),
    es$yi, es$vi, ti = tt)
}

# ---------------------------------------------------------------- 2x2 tables with zero cells
# Studies: a zero in group 1, a zero in group 2, no events in both (double zero), all events
# in group 1, no zero, all events in both groups, a missing count.
tab <- list(ai = c(0, 3, 0, 10, 5, 20, NA), bi = c(20, 17, 25, 0, 15, 0, 10),
            ci = c(2, 0, 0, 8, 4, 15, 3), di = c(18, 20, 25, 12, 16, 0, 12))
table_cases <- list()
for (ms in c("OR", "RR", "RD")) {
  for (to in c("only0", "all", "if0all", "none")) {
    for (drop in c(FALSE, TRUE)) {
      for (add in c(0.5, 0.25)) {
        es <- suppressWarnings(escalc(ms, ai = tab$ai, bi = tab$bi, ci = tab$ci, di = tab$di,
                                      add = add, to = to, drop00 = drop))
        key <- sprintf("%s_%s_add%s_drop00%s", ms, to, add, drop)
        table_cases[[key]] <- case(
          "escalc", sprintf("escalc('%s', ai, bi, ci, di, add=%s, to='%s', drop00=%s)",
                            ms, add, to, drop),
          es$yi, es$vi, measure = s(ms), add = s(add), to = s(to), drop00 = s(drop))
      }
    }
  }
}
bcg <- read.csv(file.path(data_dir, "dat.bcg.csv"))
for (ms in c("OR", "RR", "RD")) {
  for (to in c("all", "if0all")) {
    es <- escalc(ms, ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, to = to)
    table_cases[[sprintf("bcg_%s_%s", ms, to)]] <- case(
      "escalc", sprintf("escalc('%s', ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg, to='%s')",
                        ms, to),
      es$yi, es$vi, measure = s(ms), add = s(0.5), to = s(to), drop00 = s(FALSE),
      dataset = s("dat.bcg"))
  }
}

# ---------------------------------------------------------------- proportions with 0 and n
prop <- list(xi = c(0, 3, 10, 0, NA, 25, 1), ni = c(10, 10, 10, 1, 5, 40, 2))
prop_cases <- list()
for (ms in c("PR", "PLO", "PFT")) {
  for (to in c("only0", "all", "if0all", "none")) {
    es <- suppressWarnings(escalc(ms, xi = prop$xi, ni = prop$ni, add = 0.5, to = to))
    prop_cases[[sprintf("%s_%s_add0.5", ms, to)]] <- case(
      "escalc", sprintf("escalc('%s', xi, ni, add=0.5, to='%s')", ms, to),
      es$yi, es$vi, measure = s(ms), add = s(0.5), to = s(to))
  }
}
es <- escalc("PFT", xi = prop$xi, ni = prop$ni)
prop_cases[["PFT_default"]] <- case(
  "escalc", "escalc('PFT', xi, ni)  [add not given: metafor uses add = 0 for PFT]",
  es$yi, es$vi, measure = s("PFT"), add = s(0), to = s("only0"))

# ---------------------------------------------------------------- correlations at the edges
corr <- list(ri = c(0.3, -0.5, 0.9, 0.2, 1, NA, -0.999), ni = c(50, 20, 4, 3, 10, 20, 100))
corr_cases <- list()
for (ms in c("ZCOR", "COR")) {
  es <- suppressWarnings(escalc(ms, ri = corr$ri, ni = corr$ni))
  corr_cases[[ms]] <- case("escalc", sprintf("escalc('%s', ri, ni)", ms), es$yi, es$vi,
                           measure = s(ms))
}

# ---------------------------------------------------------------- conversions (formulas)
ci_in <- list(lower = c(0.7, 10.2, -3.1, 50), upper = c(1.3, 14.8, 0.5, 58),
              n = c(25, 12, 100, 400))
sd_ci <- list(
  inputs = ci_in,
  t_0.95 = list(source = s("formula"),
                call = s("sqrt(n) * (upper - lower) / (2 * qt(0.975, n - 1))"),
                sd = sqrt(ci_in$n) * (ci_in$upper - ci_in$lower) / (2 * qt(0.975, ci_in$n - 1))),
  z_0.95 = list(source = s("formula"),
                call = s("sqrt(n) * (upper - lower) / (2 * qnorm(0.975))"),
                sd = sqrt(ci_in$n) * (ci_in$upper - ci_in$lower) / (2 * qnorm(0.975))),
  t_0.90 = list(source = s("formula"),
                call = s("sqrt(n) * (upper - lower) / (2 * qt(0.95, n - 1))"),
                sd = sqrt(ci_in$n) * (ci_in$upper - ci_in$lower) / (2 * qt(0.95, ci_in$n - 1)))
)

# Wan et al. (2014) SDs and Luo et al. (2018) / Wan et al. (2014) means, written out here
# from the papers because metafor 3.8-1 has no conv.fivenum (added in metafor 4.0).
fq <- list(minimum = c(1, 10, 0.2, 30), q1 = c(3, 14, 1.1, 41),
           median = c(4, 15, 1.9, 44), q3 = c(6, 17, 2.5, 48),
           maximum = c(10, 25, 6.0, 70), n = c(12, 40, 150, 7))
xi_n <- 2 * qnorm((fq$n - 0.375) / (fq$n + 0.25))
eta_n <- 2 * qnorm((0.75 * fq$n - 0.125) / (fq$n + 0.25))
w1 <- 4 / (4 + fq$n^0.75)
w3 <- 0.7 + 0.39 / fq$n
w2a <- 2.2 / (2.2 + fq$n^0.75)
w2b <- 0.7 - 0.72 / fq$n^0.55
fivenum_cases <- list(
  inputs = fq,
  S1 = list(source = s("formula"),
            call = s("sd = (max - min)/xi(n); mean_luo = w (min + max)/2 + (1 - w) median, w = 4/(4 + n^0.75); mean_wan = (min + 2 median + max)/4"),
            sd = (fq$maximum - fq$minimum) / xi_n,
            mean_luo = w1 * (fq$minimum + fq$maximum) / 2 + (1 - w1) * fq$median,
            mean_wan = (fq$minimum + 2 * fq$median + fq$maximum) / 4),
  S2 = list(source = s("formula"),
            call = s("sd = (max - min)/(2 xi(n)) + (q3 - q1)/(2 eta(n)); mean_luo = w1 (min + max)/2 + w2 (q1 + q3)/2 + (1 - w1 - w2) median; mean_wan = (min + 2 q1 + 2 median + 2 q3 + max)/8"),
            sd = (fq$maximum - fq$minimum) / (2 * xi_n) + (fq$q3 - fq$q1) / (2 * eta_n),
            mean_luo = w2a * (fq$minimum + fq$maximum) / 2 + w2b * (fq$q1 + fq$q3) / 2 +
              (1 - w2a - w2b) * fq$median,
            mean_wan = (fq$minimum + 2 * fq$q1 + 2 * fq$median + 2 * fq$q3 + fq$maximum) / 8),
  S3 = list(source = s("formula"),
            call = s("sd = (q3 - q1)/eta(n); mean_luo = w (q1 + q3)/2 + (1 - w) median, w = 0.7 + 0.39/n; mean_wan = (q1 + median + q3)/3"),
            sd = (fq$q3 - fq$q1) / eta_n,
            mean_luo = w3 * (fq$q1 + fq$q3) / 2 + (1 - w3) * fq$median,
            mean_wan = (fq$q1 + fq$median + fq$q3) / 3),
  xi_eta_note = s("xi(n) = 2 qnorm((n - 0.375)/(n + 0.25)); eta(n) = 2 qnorm((0.75 n - 0.125)/(n + 0.25))")
)

# ---------------------------------------------------------------- write
result <- list(
  meta = list(
    generator = s("validation/effects_reference.R"),
    R_version = s(R.version.string),
    metafor_version = s(as.character(packageVersion("metafor"))),
    platform = s(R.version$platform),
    number_format = s("doubles printed with sprintf('%.17g'); NA/NaN -> null"),
    sources = s("escalc = metafor::escalc as called; derived = from escalc's d with the recorded formula; formula = R's qt/qnorm with the recorded formula"),
    conv_fivenum_available = s(exists("conv.fivenum", envir = asNamespace("metafor"))),
    conv_fivenum_note = s("metafor 3.8-1 has no conv.fivenum; the fivenum cases are the published formulas written out in R")
  ),
  smd = smd_sets,
  md = md_cases,
  smd_from_t = smd_t,
  smd_from_p = smd_p,
  tables = list(inputs = tab, cases = table_cases),
  proportions = list(inputs = prop, cases = prop_cases),
  correlations = list(inputs = corr, cases = corr_cases),
  sd_from_ci = sd_ci,
  mean_sd_from_median = fivenum_cases
)
writeLines(to_json(result), out_file)
cat("wrote", out_file, "\n")
