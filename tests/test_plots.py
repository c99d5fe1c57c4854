import matplotlib
import matplotlib.figure

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mialab import metrics, plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def simulated(n=500, shift=1.0, seed=0):
    rng = np.random.default_rng(seed)
    is_member = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    return rng.normal(size=2 * n) + shift * is_member, is_member


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


# --- plot_roc ---------------------------------------------------------------------------------------------

def test_plot_roc_draws_log_log_curve_with_chance_line_and_auc_legend():
    result = metrics.evaluate(*simulated(), fprs=(0.01,))
    ax = plots.plot_roc(result)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "False positive rate" and ax.get_ylabel() == "True positive rate"
    low, high = ax.get_xlim()
    assert low < 1e-3 and high >= 1                                  # the 10^-3 tick sits inside the frame
    assert any(abs(t - 1e-3) < 1e-12 for t in ax.get_xticks() if low <= t <= high)
    assert ax.get_legend().get_bbox_to_anchor().x0 > ax.get_window_extent().x1 - 1   # legend right of the axes
    chance = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(chance) == 1 and len(ax.get_lines()) == 2
    assert legend_texts(ax) == [f"AUC {result.auc:.2f}", "chance"]


def test_plot_roc_draws_one_labelled_curve_per_result():
    results = {"weak": metrics.evaluate(*simulated(shift=0.2), fprs=(0.01,)),
               "strong": metrics.evaluate(*simulated(shift=2.0), fprs=(0.01,))}
    ax = plots.plot_roc(results)
    assert len(ax.get_lines()) == 3
    assert legend_texts(ax)[:2] == [f"{name} (AUC {r.auc:.2f})" for name, r in results.items()]


def test_plot_roc_extends_below_one_in_a_thousand_when_there_are_enough_nonmembers():
    ax = plots.plot_roc(metrics.evaluate(*simulated(n=4000), fprs=(0.01,)))
    assert ax.get_xlim()[0] < 1 / 4000 and min(line.get_xdata()[0] for line in ax.get_lines()[-1:]) == \
        pytest.approx(1 / 4000)


def test_plot_roc_linear_axes_on_request_and_draws_on_given_axes():
    _, ax = plt.subplots()
    assert plots.plot_roc(metrics.evaluate(*simulated(), fprs=(0.01,)), ax=ax, log=False) is ax
    assert ax.get_xscale() == "linear" and ax.get_xlim() == pytest.approx((0, 1))


@pytest.mark.parametrize("results", [None, {}, {"a": 0.8}, [0.1, 0.2], np.array([0.5])])
def test_plot_roc_rejects_anything_but_attack_results(results):
    with pytest.raises(TypeError, match="results"):
        plots.plot_roc(results)


def test_plot_roc_rejects_an_ax_that_is_not_axes():
    with pytest.raises(TypeError, match="ax"):
        plots.plot_roc(metrics.evaluate(*simulated(), fprs=(0.01,)), ax="left")


# --- plot_score_histograms --------------------------------------------------------------------------------

def test_plot_score_histograms_overlays_members_and_nonmembers():
    scores, is_member = simulated()
    ax = plots.plot_score_histograms(scores, is_member, xlabel="confidence", title="Members score higher")
    assert legend_texts(ax) == ["members", "non-members"]
    assert ax.get_xlabel() == "confidence" and ax.get_ylabel() == "Density"
    assert ax.get_title() == "Members score higher"
    assert len(ax.collections) + len(ax.patches) >= 2


def test_plot_score_histograms_handles_constant_scores():
    ax = plots.plot_score_histograms(np.ones(10), np.arange(10) < 5)
    assert legend_texts(ax) == ["members", "non-members"]


@pytest.mark.parametrize("name, scores, is_member", [
    ("scores", np.array([0.1, np.nan, 0.3]), np.array([True, False, True])),
    ("scores", np.ones((3, 2)), np.array([True, False, True])),
    ("is_member", np.array([0.1, 0.2, 0.3]), np.array([True, False])),
    ("is_member", np.array([0.1, 0.2, 0.3]), np.ones(3, bool)),
    ("scores", np.array([]), np.array([], bool)),
])
def test_plot_score_histograms_rejects_bad_input(name, scores, is_member):
    with pytest.raises(ValueError, match=name):
        plots.plot_score_histograms(scores, is_member)


# --- plot_train_test --------------------------------------------------------------------------------------

def test_plot_train_test_draws_two_marked_lines_and_shades_the_gap():
    x, train, test = [250, 500, 1000], [1.0, 0.95, 0.9], [0.5, 0.6, 0.7]
    ax = plots.plot_train_test(x, train, test, xlabel="training records", title="Gap closes")
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["train", "test"]
    assert all(line.get_marker() not in (None, "", "None") for line in lines)
    np.testing.assert_array_equal(lines[0].get_ydata(), train)
    assert len(ax.collections) == 1  # the shaded gap
    assert ax.get_xlabel() == "training records" and ax.get_ylabel() == "accuracy" and ax.get_title() == "Gap closes"
    assert legend_texts(ax) == ["train", "test", "gap"]


@pytest.mark.parametrize("name, x, train, test", [
    ("train", [1, 2, 3], [0.9, 0.8], [0.5, 0.5, 0.5]),
    ("test", [1, 2, 3], [0.9, 0.8, 0.7], [0.5]),
    ("x", [], [], []),
    ("train", [1, 2], [0.9, np.nan], [0.5, 0.5]),
    ("x", [[1, 2]], [0.9, 0.8], [0.5, 0.5]),
])
def test_plot_train_test_rejects_bad_input(name, x, train, test):
    with pytest.raises(ValueError, match=name):
        plots.plot_train_test(x, train, test)


# --- threshold_explorer ------------------------------------------------------------------------------------

def test_threshold_rates_count_scores_at_or_above_each_threshold():
    tpr, fpr = plots.threshold_rates([0.9, 0.5, 0.5, 0.1], [True, True, False, False], [0.5, 0.95])
    assert tpr.tolist() == [1.0, 0.0] and fpr.tolist() == [0.5, 0.0]


def test_threshold_explorer_without_widgets_draws_a_static_figure_of_a_few_thresholds(capsys):
    scores, is_member = simulated(n=200)
    figure = plots.threshold_explorer(scores, is_member, thresholds=[0.0, 1.0], interactive=False)
    hist, roc = figure.axes[:2]
    assert hist.get_xlabel() == "score" and roc.get_xlabel() == "False positive rate"
    tpr, fpr = plots.threshold_rates(scores, is_member, [0.0, 1.0])
    labels = [t.get_text() for t in roc.get_legend().get_texts()]
    assert labels[2:] == [f"{i + 1}: t = {t:.3g}, TPR {a:.2f}, FPR {b:.2f}"
                          for i, (t, a, b) in enumerate(zip([0.0, 1.0], tpr, fpr))]
    assert [t.get_text() for t in hist.texts] == ["1", "2"]
    assert "one point on the ROC curve" in figure._suptitle.get_text()
    assert capsys.readouterr().err == ""


def test_threshold_explorer_outside_a_notebook_server_is_static():
    scores, is_member = simulated(n=50)
    assert isinstance(plots.threshold_explorer(scores, is_member), matplotlib.figure.Figure)


def test_threshold_explorer_slider_moves_the_point_and_the_readout(capsys):
    pytest.importorskip("ipywidgets")
    scores, is_member = simulated(n=200)
    box = plots.threshold_explorer(scores, is_member, interactive=True)
    box.slider.value = 0.5
    tpr, fpr = plots.threshold_rates(scores, is_member, [0.5])
    assert box.state["title"].get_text() == f"t = 0.5:  TPR = {tpr[0]:.2f},  FPR = {fpr[0]:.2f},  " \
                                            f"TPR − FPR = {tpr[0] - fpr[0]:.2f}"
    assert list(box.state["point"].get_xdata()) == [fpr[0]] and list(box.state["point"].get_ydata()) == [tpr[0]]
    assert list(box.state["line"].get_xdata()) == [0.5, 0.5]
    assert capsys.readouterr().err == ""
    assert plt.get_fignums() == []  # the live figure is not a pyplot figure: it is not shown twice


# --- legends cover no data ------------------------------------------------------------------------------------

def _legend_overlaps_axes(ax) -> bool:
    figure = ax.figure
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    return legend.overlaps(ax.get_window_extent(renderer))


@pytest.mark.parametrize("draw", [
    lambda: plots.plot_roc(metrics.evaluate(*simulated())),
    lambda: plots.plot_train_test([1, 2, 3], [0.9, 0.95, 1.0], [0.8, 0.7, 0.6]),
    lambda: (lambda ax: (ax.plot([0, 1], [0, 1], label="line"), plots.legend_outside(ax, title="t"), ax)[-1])(
        plt.subplots()[1]),
    lambda: (lambda ax: (ax.plot([0, 1], [0, 1], label="line"), ax.set_xlabel("x"),
                         plots.legend_outside(ax, where="below", ncol=2), ax)[-1])(plt.subplots()[1]),
], ids=["plot_roc", "plot_train_test", "legend_outside", "legend_outside below"])
def test_legends_sit_outside_the_axes(draw):
    assert not _legend_overlaps_axes(draw())


def test_legend_outside_rejects_what_is_not_axes():
    with pytest.raises(TypeError, match="matplotlib Axes"):
        plots.legend_outside(plt.figure())
    with pytest.raises(ValueError, match="`where`"):
        plots.legend_outside(plt.subplots()[1], where="inside")


def _drawn_tpr(line, fpr):
    """The TPR a step-post curve shows at `fpr`: the last vertex at or left of it."""
    xs, ys = line.get_xdata(), line.get_ydata()
    left = np.flatnonzero(np.asarray(xs) <= fpr)
    return float(ys[left[-1]]) if len(left) else 0.0


@pytest.mark.parametrize("levels", [None, 11, 3])
def test_the_roc_curve_shows_the_tpr_the_table_reports_at_every_fpr(levels):
    """A label-only score has a few levels: the curve at 1% FPR must read the table's 0, not a line from the
    clipped origin (notebook 12's figure drew it well above chance)."""
    scores, is_member = simulated(n=1000, shift=1.5)
    if levels is not None:
        scores = np.digitize(scores, np.linspace(-1, 2, levels - 1)).astype(float)
    fprs = (0.001, 0.01, 0.1, 0.5)
    result = metrics.evaluate(scores, is_member, fprs=fprs)
    line = plots.plot_roc(result).lines[0]
    assert line.get_drawstyle() == "steps-post"
    for fpr in fprs:
        assert _drawn_tpr(line, fpr) == pytest.approx(result.tpr_at[fpr]), fpr
