# Regenerates the reference cases in stats.json (beside this file) with GrowthBook's gbstats,
# scipy and statsmodels: pip install gbstats scipy statsmodels && python3 generate.py
import json, numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests
from gbstats.frequentist.tests import TwoSidedTTest, SequentialTwoSidedTTest, FrequentistConfig, SequentialConfig
from gbstats.models.statistics import SampleMeanStatistic, ProportionStatistic
from gbstats.utils import check_srm
import gbstats
ver = "gbstats 0.8.0"
cases = []
def st(kind, a):
    if kind == "proportions": return ProportionStatistic(n=a["n"], sum=a["successes"])
    return SampleMeanStatistic(n=a["n"], sum=a["sum"], sum_squares=a["sum_squares"])
def ttest(name, kind, ctl, cand, relative, alpha=0.05, tuning=None):
    req = {"test": kind, "control": ctl, "candidate": cand, "relative": relative, "alpha": alpha}
    dt = "relative" if relative else "absolute"
    if tuning is None:
        r = TwoSidedTTest(st(kind, ctl), st(kind, cand), FrequentistConfig(alpha=alpha, difference_type=dt)).compute_result()
    else:
        req["sequential"] = {"tuning": tuning}
        r = SequentialTwoSidedTTest(st(kind, ctl), st(kind, cand), SequentialConfig(alpha=alpha, difference_type=dt, sequential_tuning_parameter=tuning)).compute_result()
    assert r.error_message is None, r.error_message
    cases.append({"name": f"{name} ({ver} {'SequentialTwoSidedTTest' if tuning else 'TwoSidedTTest'})", "request": req,
                  "expect": {"estimate": r.expected, "ci": [float(r.ci[0]), float(r.ci[1])], "p_value": float(r.p_value), "std_error": float(r.uplift.stddev)}})

ttest("welch_means_relative", "means", {"n": 3407, "sum": 1396.87, "sum_squares": 52377.9767}, {"n": 3461, "sum": 2422.7, "sum_squares": 134698.29}, True)
ttest("welch_proportions_absolute alpha 0.1", "proportions", {"n": 1200, "successes": 130}, {"n": 1150, "successes": 161}, False, 0.1)
ttest("welch_proportions_absolute large n tiny p", "proportions", {"n": 1000000, "successes": 100000}, {"n": 1000000, "successes": 102500}, False)
ttest("welch_proportions_relative alpha 0.01", "proportions", {"n": 5000, "successes": 400}, {"n": 5100, "successes": 470}, True, 0.01)
ttest("welch_means_absolute unequal n small", "means", {"n": 12, "sum": 30.5, "sum_squares": 95.25}, {"n": 40, "sum": 88.0, "sum_squares": 260.0}, False)
ttest("sequential_means_absolute tuning 5000", "means", {"n": 3407, "sum": 1396.87, "sum_squares": 52377.9767}, {"n": 3461, "sum": 2422.7, "sum_squares": 134698.29}, False, tuning=5000)
ttest("sequential_proportions_relative tuning 5000 large n", "proportions", {"n": 200000, "successes": 20000}, {"n": 200000, "successes": 21000}, True, tuning=5000)
ttest("sequential_proportions_absolute tuning 100000", "proportions", {"n": 50000, "successes": 5000}, {"n": 50000, "successes": 5300}, False, tuning=100000)

def mw(name, x, y):
    r = stats.mannwhitneyu(x, y, alternative="two-sided", use_continuity=True, method="auto")
    cases.append({"name": f"{name} (scipy {__import__('scipy').__version__} mannwhitneyu auto)", "request": {"test": "mann_whitney", "control": x, "candidate": y},
                  "expect": {"statistic": float(r.statistic), "p_value": float(r.pvalue)}})
rng = np.random.default_rng(7)
mw("mann_whitney asymptotic with ties", [1, 2, 2, 3, 3, 3, 4, 5, 5, 6, 7, 7], [2, 3, 4, 4, 5, 6, 6, 7, 8, 8, 9, 9, 10])
mw("mann_whitney exact 3 vs 20", [0.5, 2.25, 7.125], [round(v, 3) for v in rng.normal(3, 2, 20).tolist()])
mw("mann_whitney exact 8 vs 8 extreme", [1, 2, 3, 4, 5, 6, 7, 8], [9, 10, 11, 12, 13, 14, 15, 16])
mw("mann_whitney asymptotic 9 vs 12 no ties", [round(v, 4) for v in rng.normal(0, 1, 9).tolist()], [round(v, 4) for v in rng.normal(0.8, 1, 12).tolist()])
mw("mann_whitney small with ties uses asymptotic", [1.0, 1.0, 2.0], [1.0, 3.0, 4.0, 5.0])
mw("mann_whitney single values", [1.0], [2.0])
mw("mann_whitney all tied", [3.0, 3.0, 3.0], [3.0, 3.0])

def srm_case(name, obs, w):
    chi = stats.chisquare(obs, np.array(w) / sum(w) * sum(obs))
    p = check_srm(obs, w)
    assert abs(p - chi.pvalue) < 1e-12
    cases.append({"name": f"{name} (scipy chisquare, gbstats check_srm)", "request": {"test": "srm", "observed": obs, "weights": w},
                  "expect": {"statistic": float(chi.statistic), "p_value": float(chi.pvalue)}})
srm_case("srm 3 arms", [5230, 5010, 4870], [1, 1, 1])
srm_case("srm 3 arms unequal weights", [10200, 4950, 5100], [0.5, 0.25, 0.25])
srm_case("srm balanced", [5000, 5000], [0.5, 0.5])

def adj(name, p, method):
    sm = {"holm": "holm", "bh": "fdr_bh"}[method]
    r = multipletests(p, method=sm)[1]
    cases.append({"name": f"{name} (statsmodels multipletests {sm})", "request": {"test": "adjust", "method": method, "p_values": p},
                  "expect": {"p_values": [float(v) for v in r]}})
p = [0.3, 0.01, 0.04, 0.0001, 0.9, 0.04, 0.2, 0.6]
adj("adjust holm unsorted with ties", p, "holm")
adj("adjust bh unsorted with ties", p, "bh")
adj("adjust holm clipped at 1", [0.5, 0.7, 0.9], "holm")

def err(name, req):
    cases.append({"name": f"invalid: {name}", "request": req, "expect": {"error": True}})
err("means with sums implying negative variance", {"test": "means", "control": {"n": 10, "sum": 100, "sum_squares": 10}, "candidate": {"n": 10, "sum": 5, "sum_squares": 10}})
err("zero variance in both arms", {"test": "proportions", "control": {"n": 10, "successes": 10}, "candidate": {"n": 10, "successes": 10}})
err("alpha outside (0,1)", {"test": "proportions", "control": {"n": 10, "successes": 3}, "candidate": {"n": 10, "successes": 5}, "alpha": 1.5})
err("n is zero", {"test": "proportions", "control": {"n": 0, "successes": 0}, "candidate": {"n": 10, "successes": 5}})
err("negative count", {"test": "srm", "observed": [-5, 10], "weights": [0.5, 0.5]})
err("weights do not match observed", {"test": "srm", "observed": [5, 10, 7], "weights": [0.5, 0.5]})
err("p-value outside [0,1]", {"test": "adjust", "method": "holm", "p_values": [0.2, 1.2]})
err("empty sample", {"test": "mann_whitney", "control": [], "candidate": [1, 2]})
err("missing field", {"test": "means", "control": {"n": 10, "sum": 5}, "candidate": {"n": 10, "sum": 5, "sum_squares": 10}})
err("unknown test", {"test": "anova"})
err("relative lift over a zero control", {"test": "proportions", "control": {"n": 100, "successes": 0}, "candidate": {"n": 100, "successes": 5}, "relative": True})
json.dump(cases, open("extra.json", "w"), indent=1)
print(len(cases))
