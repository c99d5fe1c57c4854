import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from mialab import diagrams  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(ax) -> str:
    return " | ".join(t.get_text() for t in ax.texts)


def _no_text_overlaps(ax):
    """No two text labels of a diagram overlap on the drawn figure."""
    renderer = ax.figure.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in ax.texts if t.get_text().strip()]
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1:]:
            assert not box_a.overlaps(box_b), f"{a!r} overlaps {b!r}"


def test_shadow_pipeline_draws_the_flow_from_pool_to_membership():
    ax = diagrams.shadow_pipeline()
    assert isinstance(ax, Axes)
    for words in ("attacker's pool", "shadow model 1", "shadow model k", "attack training set", "one attack model",
                  "target (black box)", "member?"):
        assert words in texts(ax)
    assert "members you know" in ax.get_title()
    _no_text_overlaps(ax)


def test_model_stacking_draws_three_parts_two_levels_and_one_answer():
    ax = diagrams.model_stacking()
    for words in ("part 1", "part 2", "part 3", "first-level MLP A", "first-level MLP B", "logistic regression",
                  "exactly\none model"):
        assert words in texts(ax)
    _no_text_overlaps(ax)


def test_lira_gaussians_marks_the_target_value_and_its_log_likelihood_ratio():
    ax = diagrams.lira_gaussians([3.5, 4.0, 4.5], [-0.5, 0.0, 0.5], 4.0, 4.0, 0.5, 0.0, 0.5)
    # log N(4; 4, .5) - log N(4; 0, .5) = 0.5 * (4 / 0.5) ** 2 = 32
    assert "log likelihood ratio = 32.0" in texts(ax)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert set(labels) == {"fitted IN Gaussian", "fitted OUT Gaussian", "the target's value", "IN models (3)",
                           "OUT models (3)"}
    assert ax.get_xlabel() == "logit-scaled confidence" and ax.get_ylabel() == "density"
    with pytest.raises(ValueError, match="std_in"):
        diagrams.lira_gaussians([1.0], [0.0], 0.5, 1.0, 0.0, 0.0, 1.0)


def test_rmia_comparison_shows_the_share_of_population_records_beaten():
    population = np.array([0.5, 1.0, 2.0, 4.0])
    ax = diagrams.rmia_comparison(2.5, population)
    assert "beats 75% of the population records" in ax.get_title()
    assert ax.get_xscale() == "log"
    assert "beats 50%" in diagrams.rmia_comparison(2.5, population, gamma=2.0).get_title()  # 2.5 / 2 > 0.5, 1
    with pytest.raises(ValueError, match="positive"):
        diagrams.rmia_comparison(1.0, [0.0, 1.0])
