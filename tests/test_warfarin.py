import numpy as np
import pytest

from mialab import warfarin


def test_cohort_shapes_and_the_formula_hold():
    cohort = warfarin.load_warfarin(2000, random_state=0, noise_sd=0.0)
    assert cohort.X.shape == (2000, len(warfarin.FEATURE_NAMES))
    assert np.allclose(cohort.sqrt_dose, np.clip(warfarin.iwpc_sqrt_dose(cohort.X), 0.5, None))
    assert np.allclose(cohort.dose, cohort.sqrt_dose ** 2)
    assert np.array_equal(cohort.X[:, list(warfarin.VKORC1_COLUMNS)], warfarin.VKORC1_ENCODING[cohort.vkorc1])
    assert set(np.unique(cohort.vkorc1)) == {0, 1, 2}


def test_cohort_is_seeded_and_plausible():
    a, b = warfarin.load_warfarin(3000, random_state=1), warfarin.load_warfarin(3000, random_state=1)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.dose, b.dose)
    assert not np.array_equal(a.X, warfarin.load_warfarin(3000, random_state=2).X)
    assert 20 < a.dose.mean() < 45                              # mg/week, the range of real cohorts
    # A/A carriers need less warfarin than G/G, as the formula says
    assert a.dose[a.vkorc1 == 2].mean() < a.dose[a.vkorc1 == 0].mean()
    assert np.isclose(warfarin.genotype_prior(a.vkorc1).sum(), 1.0)


def test_iwpc_formula_on_a_hand_computed_patient():
    x = np.zeros(len(warfarin.FEATURE_NAMES))
    x[:3] = [5, 170, 80]
    x[4] = 1                                                    # VKORC1 A/A
    expected = 5.6044 - 0.2614 * 5 + 0.0087 * 170 + 0.0128 * 80 - 1.6974
    assert np.isclose(warfarin.iwpc_sqrt_dose(x[None])[0], expected)


@pytest.mark.parametrize("kwargs, match", [(dict(n_records=1), "n_records"), (dict(noise_sd=-1), "noise_sd"),
                                           (dict(random_state=-1), "random_state")])
def test_bad_input_is_refused(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        warfarin.load_warfarin(**kwargs)


def test_bad_records_and_genotypes_are_refused():
    with pytest.raises(ValueError, match="FEATURE_NAMES"):
        warfarin.iwpc_sqrt_dose(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="G/G"):
        warfarin.genotype_prior(np.array([0, 3]))
