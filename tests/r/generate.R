# Reference values for chainsurvey's estimation engine, computed with R `survey`.
#
# Run from the repository root:   LC_ALL=C Rscript tests/r/generate.R
#
# Writes tests/r/data/*.csv (the api datasets shipped with `survey`, plus derived files for
# lonely-PSU, BRR and replicate-weight cases) and tests/r/cases.json. Each case holds the
# DESIGN.json and ESTIMATE.json that `chainsurvey analyze` takes, and R's results (estimate,
# SE, and where relevant CI and deff) printed with 17 significant digits.
#
# The R design is built from the same JSON specification by build_design() below, so the spec
# and the reference cannot drift apart. Only this script needs R; the tests read the JSON.

suppressPackageStartupMessages({
  library(survey)
  library(jsonlite)
})
Sys.setlocale("LC_COLLATE", "C")
options(survey.lonely.psu = "fail", survey.adjust.domain.lonely = FALSE,
        survey.replicates.mse = FALSE, survey.ultimate.cluster = FALSE)

out_dir <- "tests/r"
data_dir <- file.path(out_dir, "data")
dir.create(data_dir, showWarnings = FALSE, recursive = TRUE)

data(api)

# ---------------------------------------------------------------------------------------
# Data files. Everything R computes below uses the CSV as read back, so R and the Rust engine
# see exactly the same numbers and factor levels.

write_data <- function(df, name) {
  path <- file.path(data_dir, paste0(name, ".csv"))
  write.csv(df, path, row.names = FALSE, na = "")
  read.csv(path, na.strings = c("", "NA"), stringsAsFactors = TRUE, check.names = FALSE)
}

datasets <- list()
datasets$apisrs <- write_data(apisrs, "apisrs")
datasets$apistrat <- write_data(apistrat, "apistrat")
datasets$apiclus1 <- write_data(apiclus1, "apiclus1")
datasets$apiclus2 <- write_data(apiclus2, "apiclus2")

# apiclus1 with its 15 districts grouped into 7 strata of sizes 3,1,3,2,1,2,3, so that two
# strata have a single PSU; `lfpc` is a population count of districts per stratum.
lonely <- apiclus1
districts <- sort(unique(lonely$dnum))
sizes <- c(3, 1, 3, 2, 1, 2, 3)
stratum_of_district <- rep(seq_along(sizes), sizes)
lonely$lstr <- paste0("s", stratum_of_district[match(lonely$dnum, districts)])
lonely$lfpc <- c(s1 = 30, s2 = 4, s3 = 20, s4 = 9, s5 = 5, s6 = 12, s7 = 40)[lonely$lstr]
datasets$apilonely <- write_data(lonely, "apilonely")

# apistrat with schools paired into 100 strata of 2 PSUs (for BRR and Fay).
paired <- apistrat[order(apistrat$stype, apistrat$snum), ]
paired$pair <- rep(1:100, each = 2)
datasets$apipaired <- write_data(paired, "apipaired")

# apistrat with R-generated bootstrap (Canty-Davison) and Rao-Wu replicate weights as columns,
# and JKn replicate factors (not combined with the sampling weights).
set.seed(20261122)
dstrat0 <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = datasets$apistrat, fpc = ~fpc)
boot <- as.svrepdesign(dstrat0, type = "bootstrap", replicates = 60)
sub <- as.svrepdesign(dstrat0, type = "subbootstrap", replicates = 60)
jkn <- as.svrepdesign(svydesign(id = ~1, strata = ~stype, weights = ~pw, data = datasets$apistrat),
                      type = "JKn", compress = FALSE)
withreps <- apistrat
bw <- weights(boot, type = "analysis")
sw <- weights(sub, type = "analysis")
jf <- as.matrix(jkn$repweights)
for (i in seq_len(ncol(bw))) withreps[[paste0("bw", i)]] <- bw[, i]
for (i in seq_len(ncol(sw))) withreps[[paste0("rw", i)]] <- sw[, i]
for (i in seq_len(ncol(jf))) withreps[[paste0("jk.", i)]] <- jf[, i]
datasets$apireps <- write_data(withreps, "apireps")

# 72 synthetic workers in 12 PSUs, written by tests/indicators.rs (`synthetic_workers`) and
# only read here: the `workers-*` cases give R values for the indicator table's SEs.
datasets$workers_synthetic <- read.csv(file.path(data_dir, "workers_synthetic.csv"),
                                       na.strings = c("", "NA"), stringsAsFactors = TRUE,
                                       check.names = FALSE)

# PPS: inclusion probabilities proportional to size, from apipop. apiclus1's 15 districts and
# apiclus2's 40 get pi1 = n · M_d / Σ M (M_d = schools of district d); apistrat's schools get
# pis = n_h · api99_i / Σ_{h} api99 within their stratum; apiclus2's schools pi2 = n_d/N_d.
district_size <- table(apipop$dnum)
# Rows sorted by district: R's onestrat pairs the per-PSU factors (in order of first
# appearance) with the PSU totals (in sorted id order), which only match on sorted data; with
# Brewer's per-PSU factors an unsorted file makes R attach 1 − π to the wrong PSU.
pps1 <- apiclus1[order(apiclus1$dnum), ]
pps1$pi1 <- 15 * as.vector(district_size[as.character(pps1$dnum)]) / nrow(apipop)
datasets$apipps1 <- write_data(pps1, "apipps1")
pps2 <- apiclus2
pps2$pi1 <- 40 * as.vector(district_size[as.character(pps2$dnum)]) / nrow(apipop)
pps2$pi2 <- as.vector(table(pps2$dnum)[as.character(pps2$dnum)]) / pps2$fpc2
datasets$apipps2 <- write_data(pps2, "apipps2")
ppss <- apistrat
stratum_api99 <- tapply(apipop$api99, apipop$stype, sum)
ppss$pis <- as.vector(table(ppss$stype)[as.character(ppss$stype)]) * ppss$api99 /
  as.vector(stratum_api99[as.character(ppss$stype)])
# A numeric stratum code: R's overton2Dcheck fails on factor strata (`ave` on a factor).
ppss$stratum <- as.integer(factor(ppss$stype))
datasets$apippss <- write_data(ppss, "apippss")
boot_scale <- boot$scale
jkn_rscales <- jkn$rscales

# Population figures (from apipop) for calibration.
pop_stype <- data.frame(stype = c("E", "H", "M"), Freq = as.vector(table(apipop$stype)[c("E", "H", "M")]))
pop_schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = as.vector(table(apipop$sch.wide)[c("No", "Yes")]))
pop_totals <- c(`(Intercept)` = nrow(apipop), stypeH = sum(apipop$stype == "H"),
                stypeM = sum(apipop$stype == "M"), api99 = sum(apipop$api99))

# ---------------------------------------------------------------------------------------
# Specification → R design.

fml <- function(cols) as.formula(paste("~", paste0("`", cols, "`", collapse = "+")))

sylvester <- function(order) {
  h <- matrix(1, 1, 1)
  while (nrow(h) < order) h <- rbind(cbind(h, h), cbind(h, -h))
  h
}

build_design <- function(df, spec) {
  options(survey.lonely.psu = if (is.null(spec$lonely_psu)) "fail" else spec$lonely_psu)
  ids <- if (length(spec$ids)) fml(spec$ids) else ~1
  strata <- if (!is.null(spec$strata)) fml(spec$strata) else NULL
  fpc <- if (length(spec$fpc)) fml(spec$fpc) else NULL
  weights <- if (!is.null(spec$weights)) fml(spec$weights) else NULL
  reps <- spec$replicates
  if (!is.null(reps) && !is.null(reps$columns)) {
    type <- switch(reps$type, jk1 = "JK1", jkn = "JKn", brr = "BRR", fay = "Fay",
                   bootstrap = "bootstrap", subbootstrap = "bootstrap", other = "other")
    cols <- if (length(reps$columns) == 1) grep(reps$columns, names(df), value = TRUE) else reps$columns
    args <- list(data = df, repweights = df[, cols], weights = weights, type = type,
                 combined.weights = if (is.null(reps$combined_weights)) TRUE else reps$combined_weights,
                 mse = isTRUE(reps$mse))
    if (!is.null(reps$scale)) args$scale <- reps$scale
    if (!is.null(reps$rscales)) args$rscales <- reps$rscales
    if (!is.null(reps$fay_rho)) args$rho <- reps$fay_rho
    d <- suppressWarnings(do.call(svrepdesign, args))
  } else {
    probs <- if (length(spec$probs)) fml(spec$probs) else NULL
    pps <- if (is.null(spec$pps)) FALSE else spec$pps
    variance <- if (is.null(spec$variance)) "HT" else spec$variance
    d <- svydesign(ids = ids, strata = strata, fpc = fpc, weights = weights, probs = probs,
                   pps = pps, variance = variance, nest = isTRUE(spec$nest), data = df)
    if (!is.null(reps)) {
      # Replicates are formed from the uncalibrated design; a calibration step below then
      # re-calibrates every replicate (calibrate/postStratify/rake on a svyrep.design).
      type <- switch(reps$type, jk1 = "JK1", jkn = "JKn", brr = "BRR", fay = "Fay")
      args <- list(design = d, type = type, mse = isTRUE(reps$mse))
      if (type %in% c("BRR", "Fay")) {
        nstrata <- length(unique(d$strata[, 1]))
        args$hadamard.matrix <- sylvester(2^ceiling(log2(nstrata + 1)))
        args$fay.rho <- if (is.null(reps$fay_rho)) 0 else reps$fay_rho
      }
      d <- suppressWarnings(do.call(as.svrepdesign, args))
    }
  }
  cal <- spec$calibration
  if (!is.null(cal)) {
    if (cal$method == "poststratify") {
      d <- postStratify(d, fml(cal$strata), as.data.frame(cal$population))
    } else if (cal$method == "rake") {
      d <- rake(d, lapply(cal$margins, fml), lapply(cal$population, as.data.frame),
                control = list(maxit = cal$maxit, epsilon = cal$epsilon))
      if (inherits(d, "svyrep.design")) {
        # rake() stops when the full-sample weights converge, so replicates get only as many
        # sweeps as the full sample needed. chainsurvey rakes every replicate to convergence;
        # more calls (each one sweep at least) take R's replicates to the same fixed point.
        for (i in 1:30) {
          d <- rake(d, lapply(cal$margins, fml), lapply(cal$population, as.data.frame),
                    control = list(maxit = cal$maxit, epsilon = cal$epsilon))
        }
      }
    } else {
      pop <- unlist(cal$population_totals)
      calfun <- if (is.null(cal$calfun)) "linear" else cal$calfun
      bounds <- if (is.null(cal$bounds)) c(-Inf, Inf) else unlist(cal$bounds)
      args <- list(d, fml(cal$terms), pop, calfun = calfun, bounds = bounds,
                   epsilon = cal$epsilon, maxit = cal$maxit)
      # calibrate.svyrep.design tests `compress || is.na(...)`, which fails for an NA default
      # with uncompressed replicate columns.
      if (inherits(d, "svyrep.design")) args$compress <- FALSE
      d <- do.call(calibrate, args)
    }
  }
  d
}

# ---------------------------------------------------------------------------------------
# Specification → R estimates. Returns a list of rows (name, domain, estimate, se, ...).

num <- function(x) structure(sprintf("%.17g", as.numeric(x)), class = "json")

domain_rows <- function(d, est) {
  if (is.null(est$subset)) return(d)
  keep <- rep(TRUE, nrow(d$variables))
  for (k in names(est$subset)) {
    keep <- keep & as.character(d$variables[[k]]) %in% as.character(unlist(est$subset[[k]]))
  }
  d[keep & !is.na(keep), ]
}

one_estimate <- function(d, est, label) {
  type <- est$type
  na_rm <- isTRUE(est$na_rm)
  want_deff <- isTRUE(est$deff)
  ci <- est$ci
  rows <- list()
  add <- function(name, value, se, deff = NULL, ci_range = NULL) {
    row <- list(name = name, domain = label, estimate = num(value), se = num(se))
    if (!is.null(deff)) row$deff <- num(deff)
    if (!is.null(ci_range)) { row$ci_lower <- num(ci_range[1]); row$ci_upper <- num(ci_range[2]) }
    rows[[length(rows) + 1]] <<- row
  }
  ci_of <- function(m, i) {
    if (is.null(ci)) return(NULL)
    df <- if (identical(ci$method, "wald")) Inf else degf(d)
    level <- if (is.null(ci$level)) 0.95 else ci$level
    as.vector(confint(m, level = level, df = df)[i, ])
  }
  if (type %in% c("mean", "total")) {
    for (v in est$variables) {
      f <- if (type == "mean") svymean else svytotal
      m <- f(fml(v), d, na.rm = na_rm, deff = want_deff)
      add(v, coef(m), SE(m), if (want_deff) deff(m), ci_of(m, 1))
    }
  } else if (type == "ratio") {
    for (a in est$numerator) for (b in est$denominator) {
      m <- svyratio(fml(a), fml(b), d, na.rm = na_rm, deff = want_deff)
      add(paste0(a, "/", b), coef(m), SE(m), if (want_deff) deff(m))
    }
  } else if (type == "proportion") {
    for (v in est$variables) {
      m <- svymean(fml(v), d, na.rm = na_rm, deff = want_deff)
      levels_v <- levels(factor(d$variables[[v]]))
      for (i in seq_along(coef(m))) {
        ci_range <- NULL
        if (!is.null(ci) && identical(ci$method, "logit")) {
          level <- if (is.null(ci$level)) 0.95 else ci$level
          lev <- sub(paste0("^", v), "", names(coef(m))[i])
          f <- as.formula(paste0("~I(as.character(`", v, "`) == '", lev, "')"))
          p <- svyciprop(f, d, method = "logit", level = level, na.rm = na_rm)
          ci_range <- as.vector(attr(p, "ci"))
        } else {
          ci_range <- ci_of(m, i)
        }
        add(names(coef(m))[i], coef(m)[i], SE(m)[i], if (want_deff) deff(m)[i], ci_range)
      }
    }
  } else if (type == "quantile") {
    qrule <- if (is.null(est$qrule)) "math" else est$qrule
    level <- if (is.null(ci$level)) 0.95 else ci$level
    df <- if (identical(ci$method, "wald")) Inf else NULL
    for (v in est$variables) {
      q <- svyquantile(fml(v), d, quantiles = unlist(est$probs), qrule = qrule, ci = TRUE,
                       alpha = 1 - level, df = df, na.rm = na_rm)
      tab <- q[[1]]
      for (i in seq_along(unlist(est$probs))) {
        add(paste0(v, "@", as.character(unlist(est$probs)[i])), tab[i, 1], tab[i, 4],
            ci_range = tab[i, 2:3])
      }
    }
  }
  rows
}

run_estimate <- function(d, est) {
  d <- domain_rows(d, est)
  if (is.null(est$by)) return(one_estimate(d, est, ""))
  # svyby semantics: one subset of the full design per combination present.
  byvals <- lapply(est$by, function(b) d$variables[[b]])
  inset <- if (inherits(d, "svyrep.design")) rep(TRUE, nrow(d$variables)) else weights(d) > 0 | TRUE
  key <- do.call(paste, c(lapply(byvals, as.character), sep = "\r"))
  combos <- unique(data.frame(lapply(byvals, function(x) x), stringsAsFactors = FALSE))
  combos <- combos[do.call(order, unname(as.list(combos))), , drop = FALSE]
  rows <- list()
  for (i in seq_len(nrow(combos))) {
    vals <- sapply(combos[i, , drop = FALSE], as.character)
    label <- paste0(est$by, "=", vals, collapse = ",")
    keep <- key == paste(vals, collapse = "\r")
    sub <- d[keep & !is.na(keep), ]
    rows <- c(rows, one_estimate(sub, est, label))
  }
  rows
}

# For mean/total/ratio/quantile in domains, also check against svyby itself.
check_svyby <- function(d, est, rows) {
  if (is.null(est$by) || !(est$type %in% c("mean", "total", "ratio")) || !is.null(est$subset)) return(invisible())
  FUN <- switch(est$type, mean = svymean, total = svytotal, ratio = svyratio)
  res <- if (est$type == "ratio") {
    svyby(fml(est$numerator), fml(est$by), d, FUN, denominator = fml(est$denominator), na.rm = isTRUE(est$na_rm))
  } else {
    svyby(fml(est$variables), fml(est$by), d, FUN, na.rm = isTRUE(est$na_rm))
  }
  ours <- sort(as.numeric(sapply(rows, function(r) r$se)))
  theirs <- sort(as.numeric(SE(res)))
  if (length(ours) != length(theirs) || max(abs(ours - theirs) / pmax(abs(theirs), 1e-300)) > 1e-12) {
    stop("svyby disagrees with the subset loop for ", toJSON(est, auto_unbox = TRUE))
  }
}

# ---------------------------------------------------------------------------------------
# The cases.

cases <- list()
add_case <- function(id, data, design, estimates) {
  df <- datasets[[data]]
  result <- tryCatch({
    d <- build_design(df, design)
    rows <- list()
    for (i in seq_along(estimates)) {
      est <- estimates[[i]]
      r <- run_estimate(d, est)
      check_svyby(d, est, r)
      r <- lapply(r, function(row) c(list(estimate_index = i - 1), row))
      rows <- c(rows, r)
    }
    list(results = rows)
  }, error = function(e) list(error = conditionMessage(e)))
  case <- c(list(id = id, data = paste0("data/", data, ".csv"), design = design, estimate = estimates), result)
  cases[[length(cases) + 1]] <<- case
  cat(sprintf("%-40s %s\n", id, if (is.null(result$error)) paste(length(result$results), "rows") else paste("error:", result$error)))
}

E <- function(...) list(...)
mean_of <- function(v, ...) E(type = "mean", variables = I(v), ...)
total_of <- function(v, ...) E(type = "total", variables = I(v), ...)
ratio_of <- function(a, b, ...) E(type = "ratio", numerator = a, denominator = b, ...)
prop_of <- function(v, ...) E(type = "proportion", variables = I(v), ...)
quant_of <- function(v, p, rule, ...) E(type = "quantile", variables = I(v), probs = I(p), qrule = rule, ...)
wald <- E(level = 0.95, method = "wald")
wald_t <- E(level = 0.95, method = "wald_t")
logit <- E(level = 0.95, method = "logit")

# Simple random sampling.
srs <- E(weights = "pw", ids = I(character(0)))
srs_fpc <- E(weights = "pw", ids = I(character(0)), fpc = I("fpc"))
add_case("srs/mean-total-ratio", "apisrs", srs,
         list(mean_of(c("api00", "api99"), deff = TRUE, ci = wald), total_of("enroll", deff = TRUE, ci = wald),
              ratio_of("api00", "api99", deff = TRUE)))
add_case("srs-fpc/mean-total-ratio", "apisrs", srs_fpc,
         list(mean_of("api00", deff = TRUE, ci = wald_t), total_of("enroll", deff = TRUE), ratio_of("api00", "api99")))
add_case("srs-fpc-derived-weights/mean", "apisrs", E(ids = I(character(0)), fpc = I("fpc")),
         list(mean_of("api00"), total_of("enroll")))
add_case("srs/proportion-logit", "apisrs", srs,
         list(prop_of("stype", ci = logit, deff = TRUE), prop_of("awards", ci = wald)))
add_case("srs/domain-by-stype", "apisrs", srs_fpc,
         list(mean_of("api00", by = I("stype"), deff = TRUE), total_of("enroll", by = I("stype")),
              ratio_of("api00", "api99", by = I("stype"))))
add_case("srs/domain-two-way", "apisrs", srs_fpc,
         list(mean_of("api00", by = c("stype", "sch.wide")), prop_of("awards", by = I("stype"))))
add_case("srs/subset", "apisrs", srs_fpc,
         list(mean_of("api00", subset = E(sch.wide = "Yes")), total_of("enroll", subset = E(stype = c("H", "M")))))
add_case("srs/na-rm", "apisrs", srs,
         list(mean_of("acs.k3", na_rm = TRUE), total_of("acs.46", na_rm = TRUE)))
for (rule in c("math", "school", "hf1", "hf2", "hf3", "hf4", "hf5", "hf6", "hf7", "hf8", "hf9")) {
  add_case(paste0("srs/quantile-", rule), "apisrs", srs_fpc,
           list(quant_of("api00", c(0.25, 0.5, 0.9), rule, ci = wald_t)))
}
add_case("srs/quantile-normal-ci", "apisrs", srs, list(quant_of("enroll", c(0.5), "math", ci = wald)))

# Stratified.
strat <- E(weights = "pw", ids = I(character(0)), strata = "stype")
strat_fpc <- E(weights = "pw", ids = I(character(0)), strata = "stype", fpc = I("fpc"))
add_case("strat/mean-total-ratio", "apistrat", strat,
         list(mean_of("api00", deff = TRUE), total_of("enroll", deff = TRUE), ratio_of("api00", "api99", deff = TRUE)))
add_case("strat-fpc/mean-total-ratio", "apistrat", strat_fpc,
         list(mean_of(c("api00", "meals"), deff = TRUE, ci = wald_t), total_of("enroll", deff = TRUE, ci = wald),
              ratio_of(c("api00", "meals"), "api99", deff = TRUE)))
add_case("strat-fpc/domains", "apistrat", strat_fpc,
         list(mean_of("api00", by = I("sch.wide")), total_of("enroll", by = c("stype", "awards")),
              ratio_of("api00", "api99", by = I("awards"))))
add_case("strat-fpc/proportions", "apistrat", strat_fpc,
         list(prop_of("sch.wide", ci = logit), prop_of("awards", by = I("stype"))))
add_case("strat-fpc/subset", "apistrat", strat_fpc,
         list(mean_of("api00", subset = E(awards = "Yes"), deff = TRUE), ratio_of("api00", "api99", subset = E(stype = "E"))))
add_case("strat-fpc/quantiles", "apistrat", strat_fpc,
         list(quant_of("api00", c(0.1, 0.5), "math"), quant_of("api00", c(0.5), "hf7"),
              quant_of("enroll", c(0.5), "school", by = I("stype"))))

# One-stage cluster.
clus1 <- E(weights = "pw", ids = I("dnum"))
clus1_fpc <- E(weights = "pw", ids = I("dnum"), fpc = I("fpc"))
add_case("clus1/mean-total-ratio", "apiclus1", clus1,
         list(mean_of("api00", deff = TRUE, ci = wald_t), total_of("enroll", deff = TRUE), ratio_of("api00", "api99")))
add_case("clus1-fpc/mean-total-ratio", "apiclus1", clus1_fpc,
         list(mean_of(c("api00", "ell"), deff = TRUE), total_of("enroll", deff = TRUE), ratio_of("api00", "api99", deff = TRUE)))
add_case("clus1-fpc/domains", "apiclus1", clus1_fpc,
         list(mean_of("api00", by = I("stype")), total_of("enroll", by = I("stype")),
              prop_of("sch.wide", by = I("stype"), ci = logit)))
add_case("clus1-fpc/quantiles", "apiclus1", clus1_fpc,
         list(quant_of("api00", c(0.25, 0.5, 0.75), "math"), quant_of("api00", c(0.5), "hf8"),
              quant_of("api00", c(0.5), "math", by = I("stype"))))

# Two-stage cluster.
clus2_fpc <- E(ids = c("dnum", "snum"), fpc = c("fpc1", "fpc2"))
clus2 <- E(weights = "pw", ids = c("dnum", "snum"))
add_case("clus2-fpc/mean-total-ratio", "apiclus2", clus2_fpc,
         list(mean_of("api00", deff = TRUE), total_of("enroll", deff = TRUE, na_rm = TRUE), ratio_of("api00", "api99")))
add_case("clus2-fpc/domains-subset", "apiclus2", clus2_fpc,
         list(mean_of("api00", by = I("stype")), total_of("api.stu", by = I("sch.wide")),
              mean_of("api00", subset = E(stype = "E"))))
add_case("clus2-nofpc/mean-total", "apiclus2", clus2,
         list(mean_of("api00", deff = TRUE), total_of("api.stu"), prop_of("stype")))
add_case("clus2-fpc/quantile", "apiclus2", clus2_fpc, list(quant_of("api00", c(0.5), "hf6")))

# Stratified cluster sampling with ids repeated across strata (nest).
add_case("strat-clus-nest/mean-total", "apistrat", E(weights = "pw", ids = I("dnum"), strata = "stype", nest = TRUE),
         list(mean_of("api00", deff = TRUE), total_of("enroll"), ratio_of("api00", "api99", by = I("sch.wide"))))
add_case("strat-clus-not-nested/error", "apistrat", E(weights = "pw", ids = I("dnum"), strata = "stype"),
         list(mean_of("api00")))

# Lonely PSUs: strata s2 and s5 have a single district.
for (opt in c("fail", "certainty", "remove", "adjust", "average")) {
  design <- E(weights = "pw", ids = I("dnum"), strata = "lstr", lonely_psu = opt)
  add_case(paste0("lonely-", opt), "apilonely", design,
           list(mean_of("api00"), total_of("enroll"), ratio_of("api00", "api99"),
                mean_of("api00", by = I("stype")), total_of("enroll", subset = E(sch.wide = "Yes"))))
  design_fpc <- E(weights = "pw", ids = I("dnum"), strata = "lstr", fpc = I("lfpc"), lonely_psu = opt)
  add_case(paste0("lonely-", opt, "-fpc"), "apilonely", design_fpc,
           list(mean_of("api00"), total_of("enroll"), mean_of("api00", by = I("stype"))))
}

# Calibration (population figures from apipop).
add_case("poststratify/clus1", "apiclus1",
         E(weights = "pw", ids = I("dnum"), fpc = I("fpc"),
           calibration = E(method = "poststratify", strata = I("stype"), population = pop_stype)),
         list(mean_of("api00"), total_of("enroll"), ratio_of("api00", "api99"),
              mean_of("api00", by = I("stype")), total_of("enroll", subset = E(sch.wide = "Yes"))))
add_case("poststratify/strat-srs", "apisrs",
         E(weights = "pw", ids = I(character(0)),
           calibration = E(method = "poststratify", strata = I("stype"), population = pop_stype)),
         list(mean_of("api00", deff = TRUE), total_of("enroll"), quant_of("api00", c(0.5), "math")))
add_case("rake/clus1", "apiclus1",
         E(weights = "pw", ids = I("dnum"), fpc = I("fpc"),
           calibration = E(method = "rake", margins = list(I("stype"), I("sch.wide")),
                           population = list(pop_stype, pop_schwide), epsilon = 1e-13, maxit = 200)),
         list(mean_of("api00"), total_of("enroll"), ratio_of("api00", "api99"),
              mean_of("api00", by = I("stype"))))
add_case("rake/strat", "apistrat",
         E(weights = "pw", ids = I(character(0)), strata = "stype", fpc = I("fpc"),
           calibration = E(method = "rake", margins = list(I("stype"), I("sch.wide")),
                           population = list(pop_stype, pop_schwide), epsilon = 1e-13, maxit = 200)),
         list(mean_of("api00"), total_of("enroll", by = I("awards"))))
for (calfun in c("linear", "raking")) {
  add_case(paste0("calibrate-", calfun, "/clus1"), "apiclus1",
           E(weights = "pw", ids = I("dnum"), fpc = I("fpc"),
             calibration = E(method = "calibrate", terms = c("stype", "api99"), population_totals = as.list(pop_totals),
                             calfun = calfun, epsilon = 1e-13, maxit = 100)),
           list(mean_of("api00"), total_of("enroll"), ratio_of("api00", "api99"),
                mean_of("api00", by = I("stype")), total_of("enroll", subset = E(sch.wide = "Yes"))))
  add_case(paste0("calibrate-", calfun, "/clus2"), "apiclus2",
           E(ids = c("dnum", "snum"), fpc = c("fpc1", "fpc2"),
             calibration = E(method = "calibrate", terms = c("stype", "api99"), population_totals = as.list(pop_totals),
                             calfun = calfun, epsilon = 1e-13, maxit = 100)),
           list(mean_of("api00"), total_of("api.stu", na_rm = TRUE), mean_of("api00", by = I("stype"))))
}
add_case("calibrate-logit/clus1", "apiclus1",
         E(weights = "pw", ids = I("dnum"), fpc = I("fpc"),
           calibration = E(method = "calibrate", terms = c("stype", "api99"), population_totals = as.list(pop_totals),
                           calfun = "logit", bounds = c(0.5, 2.0), epsilon = 1e-13, maxit = 100)),
         list(mean_of("api00"), total_of("enroll"), mean_of("api00", by = I("stype"))))
add_case("calibrate-truncated/strat", "apistrat",
         E(weights = "pw", ids = I(character(0)), strata = "stype", fpc = I("fpc"),
           calibration = E(method = "calibrate", terms = c("stype", "api99"), population_totals = as.list(pop_totals),
                           calfun = "linear", bounds = c(0.9, 1.1), epsilon = 1e-13, maxit = 100)),
         list(mean_of("api00"), total_of("enroll")))

# Replicate designs generated from the design.
add_case("jk1/clus1", "apiclus1", E(weights = "pw", ids = I("dnum"), replicates = E(type = "jk1")),
         list(mean_of("api00", deff = TRUE), total_of("enroll", deff = TRUE), ratio_of("api00", "api99"),
              mean_of("api00", by = I("stype")), prop_of("sch.wide")))
add_case("jk1-fpc/clus1", "apiclus1", E(weights = "pw", ids = I("dnum"), fpc = I("fpc"), replicates = E(type = "jk1")),
         list(mean_of("api00"), total_of("enroll")))
add_case("jk1-mse/clus1", "apiclus1", E(weights = "pw", ids = I("dnum"), replicates = E(type = "jk1", mse = TRUE)),
         list(mean_of("api00"), ratio_of("api00", "api99")))
add_case("jkn/strat", "apistrat", E(weights = "pw", ids = I(character(0)), strata = "stype", replicates = E(type = "jkn")),
         list(mean_of("api00"), total_of("enroll"), ratio_of("api00", "api99"), mean_of("api00", by = I("sch.wide"))))
add_case("jkn-fpc/strat", "apistrat", E(weights = "pw", ids = I(character(0)), strata = "stype", fpc = I("fpc"),
                                      replicates = E(type = "jkn")),
         list(mean_of("api00"), total_of("enroll")))
add_case("jkn-lonely-adjust", "apilonely", E(weights = "pw", ids = I("dnum"), strata = "lstr", lonely_psu = "adjust",
                                            replicates = E(type = "jkn")),
         list(mean_of("api00"), total_of("enroll")))
add_case("jkn-lonely-average", "apilonely", E(weights = "pw", ids = I("dnum"), strata = "lstr", lonely_psu = "average",
                                             replicates = E(type = "jkn")),
         list(mean_of("api00"), total_of("enroll")))
add_case("brr/paired", "apipaired", E(weights = "pw", ids = I(character(0)), strata = "pair", replicates = E(type = "brr")),
         list(mean_of("api00"), total_of("enroll"), ratio_of("api00", "api99"), mean_of("api00", by = I("stype"))))
add_case("fay/paired", "apipaired", E(weights = "pw", ids = I(character(0)), strata = "pair",
                                    replicates = E(type = "fay", fay_rho = 0.3)),
         list(mean_of("api00"), total_of("enroll"), ratio_of("api00", "api99")))

# User-supplied replicate columns (R generated the random bootstrap replicates).
add_case("bootstrap-columns/strat", "apireps",
         E(weights = "pw", replicates = E(columns = "^bw[0-9]+$", type = "bootstrap", combined_weights = TRUE,
                                          scale = boot_scale)),
         list(mean_of("api00", deff = TRUE), total_of("enroll"), ratio_of("api00", "api99"), mean_of("api00", by = I("stype")),
              quant_of("api00", c(0.5), "math")))
add_case("raowu-columns/strat", "apireps",
         E(weights = "pw", replicates = E(columns = "^rw[0-9]+$", type = "bootstrap", combined_weights = TRUE,
                                          scale = 1 / 59)),
         list(mean_of("api00"), total_of("enroll"), prop_of("awards")))
add_case("jkn-factor-columns/strat", "apireps",
         E(weights = "pw", replicates = E(columns = paste0("jk.", seq_along(jkn_rscales)), type = "jkn",
                                          combined_weights = FALSE, rscales = jkn_rscales)),
         list(mean_of("api00"), total_of("enroll"), ratio_of("api00", "api99")))
add_case("other-columns-mse/strat", "apireps",
         E(weights = "pw", replicates = E(columns = "^bw[0-9]+$", type = "other", scale = boot_scale,
                                          rscales = rep(1, 60), mse = TRUE)),
         list(mean_of("api00"), total_of("enroll")))

# Calibration of replicate designs: every replicate is re-calibrated to the same figures.
poststrat_stype <- E(method = "poststratify", strata = I("stype"), population = pop_stype)
rake_two <- E(method = "rake", margins = list(I("stype"), I("sch.wide")),
              population = list(pop_stype, pop_schwide), epsilon = 1e-13, maxit = 200)
greg_of <- function(calfun, ...) E(method = "calibrate", terms = c("stype", "api99"),
                                   population_totals = as.list(pop_totals), calfun = calfun,
                                   epsilon = 1e-13, maxit = 100, ...)
add_case("jk1-poststratify/clus1", "apiclus1",
         E(weights = "pw", ids = I("dnum"), replicates = E(type = "jk1"), calibration = poststrat_stype),
         list(mean_of("api00"), total_of("enroll"), ratio_of("api00", "api99"),
              mean_of("api00", by = I("stype")), prop_of("sch.wide")))
add_case("jk1-rake/clus1", "apiclus1",
         E(weights = "pw", ids = I("dnum"), replicates = E(type = "jk1"), calibration = rake_two),
         list(mean_of("api00"), total_of("enroll"), mean_of("api00", by = I("stype"))))
for (calfun in c("linear", "raking")) {
  add_case(paste0("jk1-calibrate-", calfun, "/clus1"), "apiclus1",
           E(weights = "pw", ids = I("dnum"), replicates = E(type = "jk1"), calibration = greg_of(calfun)),
           list(mean_of("api00"), total_of("enroll"), ratio_of("api00", "api99"),
                mean_of("api00", by = I("stype"))))
}
add_case("jk1-calibrate-logit/clus1", "apiclus1",
         E(weights = "pw", ids = I("dnum"), replicates = E(type = "jk1"),
           calibration = greg_of("logit", bounds = c(0.4, 2.5))),
         list(mean_of("api00"), total_of("enroll")))
add_case("jkn-poststratify/strat", "apistrat",
         E(weights = "pw", ids = I(character(0)), strata = "stype", replicates = E(type = "jkn"),
           calibration = E(method = "poststratify", strata = I("sch.wide"), population = pop_schwide)),
         list(mean_of("api00"), total_of("enroll"), ratio_of("api00", "api99"), mean_of("api00", by = I("awards"))))
bootcols <- E(columns = "^bw[0-9]+$", type = "bootstrap", combined_weights = TRUE, scale = boot_scale)
add_case("bootstrap-columns-poststratify/strat", "apireps",
         E(weights = "pw", replicates = bootcols,
           calibration = E(method = "poststratify", strata = I("sch.wide"), population = pop_schwide)),
         list(mean_of("api00"), total_of("enroll"), mean_of("api00", by = I("stype"))))
for (calfun in c("linear", "raking")) {
  add_case(paste0("bootstrap-columns-calibrate-", calfun, "/strat"), "apireps",
           E(weights = "pw", replicates = bootcols, calibration = greg_of(calfun)),
           list(mean_of("api00"), total_of("enroll"), ratio_of("api00", "api99"), prop_of("awards")))
}
add_case("bootstrap-columns-rake/strat", "apireps",
         E(weights = "pw", replicates = bootcols, calibration = rake_two),
         list(mean_of("api00"), total_of("enroll")))
add_case("jkn-factor-columns-poststratify/strat", "apireps",
         E(weights = "pw", replicates = E(columns = paste0("jk.", seq_along(jkn_rscales)), type = "jkn",
                                          combined_weights = FALSE, rscales = jkn_rscales),
           calibration = E(method = "poststratify", strata = I("sch.wide"), population = pop_schwide)),
         list(mean_of("api00"), total_of("enroll")))

# Probability-proportional-to-size designs.
add_case("probs/clus1", "apipps1", E(ids = I("dnum"), probs = I("pi1")),
         list(mean_of("api00"), total_of("enroll"), ratio_of("api00", "api99")))
add_case("pps-brewer/clus1", "apipps1", E(ids = I("dnum"), fpc = I("pi1"), pps = "brewer"),
         list(mean_of("api00"), total_of("enroll"), ratio_of("api00", "api99"), prop_of("sch.wide"),
              mean_of("api00", by = I("stype"))))
add_case("pps-brewer/strat", "apippss", E(ids = I(character(0)), strata = "stype", fpc = I("pis"), pps = "brewer"),
         list(mean_of("api00"), total_of("enroll"), ratio_of("api00", "api99"), mean_of("api00", by = I("sch.wide"))))
add_case("pps-brewer-two-stage/clus2", "apipps2",
         E(ids = c("dnum", "snum"), fpc = c("pi1", "pi2"), pps = "brewer"),
         list(mean_of("api00"), total_of("enroll", na_rm = TRUE), ratio_of("api00", "api99")))
add_case("pps-brewer-poststratify/clus1", "apipps1",
         E(ids = I("dnum"), fpc = I("pi1"), pps = "brewer", calibration = poststrat_stype),
         list(mean_of("api00"), total_of("enroll")))
for (v in c("HT", "YG")) {
  add_case(paste0("pps-overton-", v, "/clus1"), "apipps1",
           E(ids = I("dnum"), probs = I("pi1"), pps = "overton", variance = v),
           list(mean_of("api00"), total_of("enroll"), ratio_of("api00", "api99")))
  add_case(paste0("pps-overton-", v, "/strat"), "apippss",
           E(ids = I(character(0)), strata = "stratum", probs = I("pis"), pps = "overton", variance = v),
           list(mean_of("api00"), total_of("enroll")))
}

# The indicator table's calibrated designs (tests/indicators.rs compares its SEs to these).
pop_region <- data.frame(mw_region = c("I", "II", "III"), Freq = c(1500, 1700, 1900))
workers_poststrat <- E(method = "poststratify", strata = I("mw_region"), population = pop_region)
add_case("workers-poststratify/taylor", "workers_synthetic",
         E(weights = "weight", ids = I("psu"), calibration = workers_poststrat),
         list(mean_of(c("excess", "hourly"))))
add_case("workers-poststratify/jk1", "workers_synthetic",
         E(weights = "weight", ids = I("psu"), replicates = E(type = "jk1"), calibration = workers_poststrat),
         list(mean_of(c("excess", "hourly"))))

writeLines(toJSON(list(generator = "tests/r/generate.R", survey_version = as.character(packageVersion("survey")),
                       r_version = R.version.string, cases = cases),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE, json_verbatim = TRUE),
           file.path(out_dir, "cases.json"))
cat(length(cases), "cases written\n")
