//! The audit trail of a weight: every factor kept as its own column (METHODOLOGY §3.5).

/// One row per weighted record; the final weight is the product of the seven columns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WeightColumns {
    /// 1/π of the frame (tier-0) sample; 1 for units reached by links.
    pub base: Vec<f64>,
    /// GWSM shared weight for units reached by links; 1 for tier 0.
    pub share: Vec<f64>,
    /// 1/π_{i|s} of reached-unit subsampling (1 when all reached units are taken).
    pub subsample: Vec<f64>,
    /// M/m within the unit (1 for unit-level records).
    pub within_unit: Vec<f64>,
    /// Product of the non-response factors (unit classes and worker m/r).
    pub nr_adj: Vec<f64>,
    /// Calibration factor g (the product of both calibrations when trimming re-calibrates).
    pub calib_g: Vec<f64>,
    /// Trimming factor (trimmed / untrimmed weight).
    pub trim_adj: Vec<f64>,
}

impl WeightColumns {
    /// `n` rows with every factor 1.
    pub fn ones(n: usize) -> WeightColumns {
        WeightColumns {
            base: vec![1.0; n],
            share: vec![1.0; n],
            subsample: vec![1.0; n],
            within_unit: vec![1.0; n],
            nr_adj: vec![1.0; n],
            calib_g: vec![1.0; n],
            trim_adj: vec![1.0; n],
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.base.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.base.is_empty()
    }

    /// The weight before calibration and trimming.
    pub fn pre_calibration(&self) -> Vec<f64> {
        (0..self.len())
            .map(|k| {
                self.base[k]
                    * self.share[k]
                    * self.subsample[k]
                    * self.within_unit[k]
                    * self.nr_adj[k]
            })
            .collect()
    }

    /// The final weight: the product of all seven factors.
    pub fn final_weights(&self) -> Vec<f64> {
        self.pre_calibration()
            .iter()
            .enumerate()
            .map(|(k, w)| w * self.calib_g[k] * self.trim_adj[k])
            .collect()
    }

    /// Column names in output order, matching [`WeightColumns::row`].
    pub const NAMES: [&'static str; 7] = [
        "base",
        "share",
        "subsample",
        "within_unit",
        "nr_adj",
        "calib_g",
        "trim_adj",
    ];

    /// The seven factors of row `k`, in [`WeightColumns::NAMES`] order.
    pub fn row(&self, k: usize) -> [f64; 7] {
        [
            self.base[k],
            self.share[k],
            self.subsample[k],
            self.within_unit[k],
            self.nr_adj[k],
            self.calib_g[k],
            self.trim_adj[k],
        ]
    }
}
