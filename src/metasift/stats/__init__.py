"""The numerical core: effect sizes, heterogeneity estimators, pooling, batch fits.

Pure NumPy kernels with no I/O and no knowledge of reviews; usable on its own.
"""

from __future__ import annotations

from metasift.stats._confint import (
    HigginsThompsonInterval,
    Tau2Interval,
    higgins_thompson_ci,
    profile_likelihood_ci,
    q_profile_ci,
)
from metasift.stats.batch import BatchResult, meta_analysis_batch
from metasift.stats.bias import (
    BeggResult,
    EggerResult,
    FailSafeNResult,
    PetPeeseResult,
    TrimFillResult,
    begg_test,
    egger_test,
    fail_safe_n,
    pet_peese,
    trim_and_fill,
)
from metasift.stats.conversions import (
    MeanSD,
    SmdEstimate,
    mean_sd_from_median,
    sd_from_ci,
    sd_from_se,
    smd_from_p,
    smd_from_t,
)
from metasift.stats.effects import EffectSizes, effect_sizes
from metasift.stats.interpret import (
    COHEN_1988,
    HANDBOOK_I2_BANDS,
    EffectSizeLabel,
    HeterogeneityLabel,
    Interpretation,
    SignificanceLabel,
    i2_bands,
    interpret,
    label_effect_size,
    label_heterogeneity,
    label_significance,
)
from metasift.stats.metareg import (
    MetaRegressionResult,
    meta_regression,
)
from metasift.stats.multiarm import (
    CombinedEvents,
    CombinedMeans,
    MultiArmResult,
    SharedControlSplit,
    arms_to_comparisons,
    combine_arms,
    combine_arms_binary,
    split_shared_control,
)
from metasift.stats.pooling import MetaResult, meta_analysis
from metasift.stats.sensitivity import (
    InfluenceResult,
    SensitivityResult,
    cumulative,
    influence,
    leave_one_out,
)
from metasift.stats.subgroups import (
    NotPooled,
    SubgroupResult,
    subgroup_analysis,
)

__all__ = [
    "COHEN_1988",
    "HANDBOOK_I2_BANDS",
    "BatchResult",
    "BeggResult",
    "CombinedEvents",
    "CombinedMeans",
    "EffectSizeLabel",
    "EffectSizes",
    "EggerResult",
    "FailSafeNResult",
    "HeterogeneityLabel",
    "HigginsThompsonInterval",
    "InfluenceResult",
    "Interpretation",
    "MeanSD",
    "MetaRegressionResult",
    "MetaResult",
    "MultiArmResult",
    "NotPooled",
    "PetPeeseResult",
    "SensitivityResult",
    "SharedControlSplit",
    "SignificanceLabel",
    "SmdEstimate",
    "SubgroupResult",
    "Tau2Interval",
    "TrimFillResult",
    "arms_to_comparisons",
    "begg_test",
    "combine_arms",
    "combine_arms_binary",
    "cumulative",
    "effect_sizes",
    "egger_test",
    "fail_safe_n",
    "higgins_thompson_ci",
    "i2_bands",
    "influence",
    "interpret",
    "label_effect_size",
    "label_heterogeneity",
    "label_significance",
    "leave_one_out",
    "mean_sd_from_median",
    "meta_analysis",
    "meta_analysis_batch",
    "meta_regression",
    "pet_peese",
    "profile_likelihood_ci",
    "q_profile_ci",
    "sd_from_ci",
    "sd_from_se",
    "smd_from_p",
    "smd_from_t",
    "split_shared_control",
    "subgroup_analysis",
    "trim_and_fill",
]
