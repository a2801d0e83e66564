# Times R `survey` on the benchmark worker file written by benches/estimate.rs.
#
# Usage: Rscript benches/r/bench.R WORKERS.csv MARGINS.json OUT.json
#
# Operations (each timed with proc.time, elapsed seconds):
#   setup_means   svydesign(ids = ~psu, strata = ~stratum, weights = ~w) + 6 svymean
#   domain_means  svyby(6 variables, ~tier + sex, svymean)
#   rake_means    rake() to the tier, sex and agegrp margins + 6 svymean
#   bootstrap     as.svrepdesign(type = "bootstrap", replicates = 200) + 6 svymean
# Estimates and SEs are written with 17 significant digits so the Rust bench can compare.

suppressPackageStartupMessages({ library(survey); library(jsonlite) })
Sys.setlocale("LC_COLLATE", "C")
args <- commandArgs(trailingOnly = TRUE)
csv <- args[1]; margins_path <- args[2]; out <- args[3]
vars <- c("hours", "earnings", "low_pay", "excessive", "social_ins", "union")
f <- as.formula(paste("~", paste(vars, collapse = "+")))

t_read <- system.time(df <- read.csv(csv, stringsAsFactors = TRUE))[["elapsed"]]
margins <- fromJSON(margins_path)

timed <- function(expr) {
  t <- system.time(value <- force(expr))[["elapsed"]]
  list(seconds = t, value = value)
}
num <- function(x) structure(sprintf("%.17g", as.numeric(x)), class = "json")

setup <- timed({
  d <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = df)
  lapply(vars, function(v) svymean(as.formula(paste0("~", v)), d))
})
d <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = df)

domains <- timed(svyby(f, ~tier + sex, d, svymean))
dom <- domains$value

raked <- timed({
  r <- rake(d, list(~tier, ~sex, ~agegrp),
            list(margins$tier, margins$sex, margins$agegrp),
            control = list(maxit = 100, epsilon = 1e-12))
  lapply(vars, function(v) svymean(as.formula(paste0("~", v)), r))
})

set.seed(1)
boot <- timed({
  b <- as.svrepdesign(d, type = "bootstrap", replicates = 200)
  lapply(vars, function(v) svymean(as.formula(paste0("~", v)), b))
})

stat_rows <- function(list_of_means) {
  lapply(seq_along(vars), function(i) list(name = vars[i], estimate = num(coef(list_of_means[[i]])),
                                            se = num(SE(list_of_means[[i]]))))
}
domain_rows <- list()
for (i in seq_len(nrow(dom))) {
  for (v in vars) {
    domain_rows[[length(domain_rows) + 1]] <- list(
      name = v, domain = paste0("tier=", dom$tier[i], ",sex=", dom$sex[i]),
      estimate = num(dom[i, v]), se = num(dom[i, paste0("se.", v)]))
  }
}
result <- list(
  survey_version = as.character(packageVersion("survey")),
  read_csv_seconds = t_read,
  setup_means = list(seconds = setup$seconds, rows = stat_rows(setup$value)),
  domain_means = list(seconds = domains$seconds, rows = domain_rows),
  rake_means = list(seconds = raked$seconds, rows = stat_rows(raked$value)),
  bootstrap = list(seconds = boot$seconds, rows = stat_rows(boot$value)))
writeLines(toJSON(result, auto_unbox = TRUE, digits = NA, json_verbatim = TRUE), out)
