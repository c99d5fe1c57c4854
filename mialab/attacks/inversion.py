"""Model inversion (Fredrikson et al. 2014, 2015): from a model's outputs back to what it learned about its inputs.

    # attribute inference: a patient's genotype from a dosing model, the dose and the other attributes
    attack = MAPAttributeInference(columns=(3, 4), encodings=VKORC1_ENCODING, sigma=0.65).fit(public_genotypes)
    genotype = attack.infer(dosing_model, X, sqrt_dose)          # (n,) index into encodings

    # MI-Face: an input the model gives a class's highest confidence (a class average), white- or black-box
    images = MIFace(lr=0.1).infer(model, labels)                 # needs the weights (a torch module)
    images = BlackBoxMIFace(lr=0.1).infer(BlackBox(model, output="rounded", decimals=2), labels, n_features=64)

Inversion attacks return inferred values or images, not membership scores, so they have the shape of
mialab.attacks.attribute.AttributeInference (fit(...) -> self, infer(...)) rather than score(). Taught in notebook 08.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from .._reference import reference
from .._validation import as_array, as_features, as_labels, check_is_fitted, check_positive_int, check_scalar
from .._validation import check_count
from ..blackbox import check_target, query_probabilities
from ..models import _check_module, predict_proba
from ..threads import limited

__all__ = ["map_estimate", "MAPAttributeInference", "mi_face_descent", "finite_difference_gradient",
           "class_cost_grad", "MIFace", "BlackBoxMIFace", "judge_inversions", "bootstrap_share"]


# ------------------------------------------------------------------------------------- attribute inference (2014)

@reference
def map_estimate(predictions, observed, sigma, prior) -> np.ndarray:
    """The maximum a posteriori value of a hidden attribute: argmax_v N(observed; predictions[:, v], sigma²) prior[v].

    predictions (n, V): the model's output on each record completed with each candidate value v; observed (n,):
    the output the attacker knows (the dose); prior (V,): the candidate values' probabilities -> int64 (n,), the
    index of the most probable value (the first of equally probable ones). Fredrikson et al. 2014.
    Taught in notebook 08, Exercise 8.1."""
    predictions = as_array(predictions, "predictions", ndim=2)
    observed = as_array(observed, "observed", ndim=1)
    prior = as_array(prior, "prior", ndim=1)
    sigma = check_scalar(sigma, "sigma", low=0.0, closed="neither")
    if len(observed) != len(predictions) or len(prior) != predictions.shape[1]:
        raise ValueError(f"`predictions` {predictions.shape} needs one `observed` value per row ({len(observed)} "
                         f"given) and one `prior` entry per column ({len(prior)} given).")
    if np.any(prior < 0) or not np.isclose(prior.sum(), 1.0, atol=1e-6):
        raise ValueError(f"`prior` must be probabilities >= 0 that sum to 1; got {np.round(prior, 4).tolist()}.")
    with np.errstate(divide="ignore"):
        log_posterior = -0.5 * ((observed[:, None] - predictions) / sigma) ** 2 + np.log(prior)[None, :]
    return np.argmax(log_posterior, axis=1).astype(np.int64)


def _predict(model, X) -> np.ndarray:
    if not callable(getattr(model, "predict", None)):
        raise TypeError(f"`model` must be a regression model with predict(X) -> (n,) (for example "
                        f"mialab.defenses.dp_linear.DPLinearRegression); got {type(model).__name__}.")
    out = np.asarray(model.predict(X), dtype=float).reshape(len(X), -1)
    if out.shape[1] != 1:
        raise ValueError(f"the model's predict(X) gave shape {out.shape}; this attack needs one number per record.")
    return out[:, 0]


class MAPAttributeInference:
    """Fredrikson et al.'s (2014) attribute inference: for each record, the candidate value of a hidden attribute
    that makes the model's output most likely to be the output the attacker observed, weighted by the prior.

    columns: the columns of X that encode the attribute; encodings (V, len(columns)): the values those columns
    take for each candidate value (for VKORC1 one-hot: G/G (0, 0), A/G (1, 0), A/A (0, 1)); sigma: the standard
    deviation of the model's error (the attacker is told it, as the paper assumes). fit(values) learns the prior
    from the attribute's values in public data (the population frequencies). infer(model, X, observed) -> (n,).

    Threat model:
        data:      the record's other attributes and the model's true output for it (the patient's stable dose)
        knowledge: the attribute's prior over the population, the model's error sd
        outputs:   the model's prediction (white-box in the paper: a linear model's coefficients)
        queries:   V per record (one per candidate value)
    Paper: M. Fredrikson, E. Lantz, S. Jha, S. Lin, D. Page, T. Ristenpart, "Privacy in Pharmacogenetics: An
    End-to-End Case Study of Personalized Warfarin Dosing", USENIX Security 2014. Taught in notebook 08, section 2.
    """

    def __init__(self, columns, encodings, sigma: float):
        self.columns = tuple(int(c) for c in as_array(columns, "columns", ndim=1, dtype=np.int64))
        self.encodings = as_array(encodings, "encodings", ndim=2)
        if self.encodings.shape[1] != len(self.columns) or len(self.encodings) < 2:
            raise ValueError(f"`encodings` must have one row per candidate value (>= 2) and one column per entry of "
                             f"`columns` ({len(self.columns)}); got shape {self.encodings.shape}.")
        self.sigma = check_scalar(sigma, "sigma", low=0.0, closed="neither")

    def fit(self, values) -> "MAPAttributeInference":
        """Learn the prior from the attribute's values in public data: values (m,) int in [0, V)."""
        values = as_array(values, "values", ndim=1, dtype=np.int64)
        if values.min() < 0 or values.max() >= len(self.encodings):
            raise ValueError(f"`values` must be indices of candidate values, 0 to {len(self.encodings) - 1}.")
        self.prior_ = np.bincount(values, minlength=len(self.encodings)) / len(values)
        return self

    def predictions(self, model, X) -> np.ndarray:
        """The model's output on each record completed with each candidate value: X (n, d) -> (n, V)."""
        X = as_array(X, "X", ndim=2)
        if max(self.columns) >= X.shape[1]:
            raise ValueError(f"`columns` {self.columns} do not fit records with {X.shape[1]} features.")
        out = np.empty((len(X), len(self.encodings)))
        for v, code in enumerate(self.encodings):
            completed = X.copy()
            completed[:, list(self.columns)] = code
            out[:, v] = _predict(model, completed)
        return out

    def infer(self, model, X, observed) -> np.ndarray:
        """The MAP candidate value of each record: X (n, d), observed (n,) -> int64 (n,) indices into encodings."""
        check_is_fitted(self, "prior_")
        return map_estimate(self.predictions(model, X), observed, self.sigma, self.prior_)


# ---------------------------------------------------------------------------------------------- MI-Face (2015)

def _check_descent(lr, max_iter, beta, gamma):
    return (check_scalar(lr, "lr", low=0.0, closed="neither"), check_count(max_iter, "max_iter"),
            check_positive_int(beta, "beta"), check_scalar(gamma, "gamma"))


@reference
def mi_face_descent(cost_grad: Callable, x0, lr: float = 0.1, max_iter: int = 5000, beta: int = 100,
                    gamma: float = 0.01):
    """Fredrikson et al.'s (2015) Algorithm 1: gradient descent on the input, x_i = clip(x_{i-1} - lr ∇c(x_{i-1}),
    0, 1), stopping when c(x_i) >= the largest of the last `beta` costs (no progress) or c(x_i) <= gamma.

    cost_grad(x (d,)) -> (cost, gradient (d,)); x0 (d,) the start -> (x_best (d,), cost_best): the iterate with
    the lowest cost seen, x0 included (the first of equal ones). Taught in notebook 08, Exercise 8.3."""
    if not callable(cost_grad):
        raise TypeError(f"`cost_grad` must be a function x -> (cost, gradient); got {type(cost_grad).__name__}.")
    x = np.clip(as_array(x0, "x0", ndim=1), 0.0, 1.0)
    lr, max_iter, beta, gamma = _check_descent(lr, max_iter, beta, gamma)
    cost, grad = cost_grad(x)
    costs, best_x, best_cost = [float(cost)], x, float(cost)
    for _ in range(max_iter):
        x = np.clip(x - lr * np.asarray(grad, dtype=float), 0.0, 1.0)
        cost, grad = cost_grad(x)
        cost = float(cost)
        if cost < best_cost:
            best_x, best_cost = x, cost
        if cost >= max(costs[-beta:]) or cost <= gamma:
            break
        costs.append(cost)
    return best_x, best_cost


@reference
def finite_difference_gradient(f: Callable, x, h: float = 0.01) -> np.ndarray:
    """Central finite differences: (f(x + h e_i) - f(x - h e_i)) / 2h for every coordinate i, from one batched call.

    f maps a batch (m, d) to values (m,); x (d,) -> gradient (d,). The 2d points are x + h e_1, ..., x + h e_d,
    then x - h e_1, ..., x - h e_d. Taught in notebook 08, Exercise 8.4."""
    x = as_array(x, "x", ndim=1)
    h = check_scalar(h, "h", low=0.0, closed="neither")
    d = len(x)
    steps = h * np.eye(d)
    values = np.asarray(f(np.concatenate([x + steps, x - steps])), dtype=float).reshape(-1)
    if values.shape != (2 * d,):
        raise ValueError(f"`f` must return one value per row of its (m, d) input; it returned {values.size} for "
                         f"{2 * d} rows.")
    return (values[:d] - values[d:]) / (2 * h)


def _check_labels(labels) -> np.ndarray:
    return as_labels(as_array(labels, "labels", ndim=1, dtype=np.int64), "labels")


def class_cost_grad(model, label: int) -> Callable:
    """MI-Face's cost for a class of a torch classifier and its gradient by backpropagation: returns
    cost_grad(x (d,)) -> (1 - p_label(x), gradient (d,)), what mi_face_descent takes.
    Taught in notebook 08, section 4."""
    model = _check_module(model)
    n_classes = getattr(model, "n_classes", None)
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or label < 0 \
            or (n_classes is not None and label >= n_classes):
        raise ValueError(f"`label` must be a class index of the model (0 to {n_classes}); got {label!r}.")
    model.eval()

    def cost_grad(x):
        x_t = torch.tensor(np.asarray(x), dtype=torch.float32, requires_grad=True)
        with limited():
            cost = 1.0 - torch.softmax(model(x_t[None]), dim=1)[0, int(label)]
            cost.backward()
        return float(cost.detach()), x_t.grad.double().numpy()
    return cost_grad


def bootstrap_share(hits, n_boot: int = 1000, level: float = 0.95, random_state: int = 0) -> tuple:
    """The share of True in hits (n,) bool and its percentile-bootstrap interval -> (share, low, high)."""
    hits = as_array(hits, "hits", ndim=1, dtype=bool)
    n_boot = check_count(n_boot, "n_boot")
    rng = np.random.default_rng(check_positive_int(random_state, "random_state", minimum=0))
    shares = hits[rng.integers(len(hits), size=(n_boot, len(hits)))].mean(axis=1)
    alpha = (1 - check_scalar(level, "level", low=0.0, high=1.0, closed="neither")) / 2
    return float(hits.mean()), float(np.quantile(shares, alpha)), float(np.quantile(shares, 1 - alpha))


def _counting(cost_grad: Callable) -> Callable:
    """cost_grad, counting its calls in `.calls` (mi_face_descent calls it once for x0, then once a step)."""
    def counted(x):
        counted.calls += 1
        return cost_grad(x)
    counted.calls = 0
    return counted


class MIFace:
    """MI-Face, white-box: for each label, gradient descent on the input to lower c(x) = 1 - p_label(x) (the
    paper's cost, no auxiliary term), from x0 = 0, with the paper's stopping rule (mi_face_descent).

    infer(model, labels (k,)) -> (k, n_features) images in [0, 1]; `model` is a torch module (its gradients are
    used: needs = "weights"). costs_ (k,) and n_steps_ hold each inversion's final cost and iterations.
    Paper: M. Fredrikson, S. Jha, T. Ristenpart, "Model Inversion Attacks that Exploit Confidence Information and
    Basic Countermeasures", CCS 2015 (Algorithm 1). Taught in notebook 08, section 4.
    """

    needs = "weights"

    def __init__(self, lr: float = 0.1, max_iter: int = 5000, beta: int = 100, gamma: float = 0.01):
        self.lr, self.max_iter, self.beta, self.gamma = _check_descent(lr, max_iter, beta, gamma)

    def fit(self, *args) -> "MIFace":
        """Nothing to fit; returns self."""
        return self

    def infer(self, model, labels) -> np.ndarray:
        """One inversion per label: labels (k,) -> images (k, n_features)."""
        model = _check_module(model)
        labels = _check_labels(labels)
        n_features = getattr(model, "n_features", None)
        if n_features is None:
            raise ValueError("`model` must say its input size (an `n_features` attribute, as mialab.models.MLP).")
        images, self.costs_, self.n_steps_ = [], [], []
        model.eval()
        with limited():
            for label in labels:
                counted = _counting(class_cost_grad(model, int(label)))
                x, cost = mi_face_descent(counted, np.zeros(n_features), self.lr, self.max_iter, self.beta,
                                          self.gamma)
                images.append(x)
                self.costs_.append(cost)
                self.n_steps_.append(counted.calls - 1)   # the first call prices x0; each later one is a step
        self.costs_, self.n_steps_ = np.array(self.costs_), np.array(self.n_steps_)
        return np.array(images)


class BlackBoxMIFace(MIFace):
    """MI-Face, black-box: the same descent with the gradient of 1 - p_label estimated by central finite
    differences (step h) from the box's answers (2 * n_features + 1 queries a step).

    infer(target, labels (k,), n_features) -> (k, n_features). A box that rounds its answers (BlackBox(...,
    output="rounded", decimals=...)) flattens the cost into steps the differences cannot see when h is small:
    the paper's rounding countermeasure. queries_ holds the number of records queried.
    Paper: Fredrikson et al., CCS 2015 (black-box inversion; rounding as a countermeasure).
    Taught in notebook 08, section 5.
    """

    needs = "probabilities"

    def __init__(self, lr: float = 0.1, max_iter: int = 5000, beta: int = 100, gamma: float = 0.01,
                 h: float = 0.01):
        super().__init__(lr, max_iter, beta, gamma)
        self.h = check_scalar(h, "h", low=0.0, closed="neither")

    def infer(self, target, labels, n_features: int) -> np.ndarray:
        """One inversion per label from the box's answers: labels (k,), n_features -> images (k, n_features)."""
        check_target(target)
        labels = _check_labels(labels)
        n_features = check_positive_int(n_features, "n_features")
        before = getattr(target, "n_queries", 0)
        images, self.costs_, self.n_steps_ = [], [], []
        for label in labels:
            def cost(X, label=int(label)):
                return 1.0 - query_probabilities(target, X)[:, label]

            def cost_grad(x, cost=cost):
                return float(cost(x[None])[0]), finite_difference_gradient(cost, x, self.h)

            counted = _counting(cost_grad)
            x, c = mi_face_descent(counted, np.zeros(n_features), self.lr, self.max_iter, self.beta, self.gamma)
            images.append(x)
            self.costs_.append(c)
            self.n_steps_.append(counted.calls - 1)
        self.costs_, self.n_steps_ = np.array(self.costs_), np.array(self.n_steps_)
        self.queries_ = getattr(target, "n_queries", 0) - before
        return np.array(images)


def judge_inversions(images, labels, evaluator, X_ref, y_ref, per_image: bool = False):
    """How recognisable the inversions are, judged without the target: images (k, d), labels (k,), an evaluator
    model trained on other data (a torch module or anything with predict_proba), reference records X_ref (m, d)
    with labels y_ref (m,) -> dict(evaluator = share the evaluator labels right, nearest_mean = share whose
    nearest class mean of X_ref is their own class, distance = (k,) Euclidean distance to their own class mean).
    per_image=True returns the evaluator's verdict on each image instead, bool (k,). Taught in notebook 08, §4."""
    images = as_features(images)
    labels = _check_labels(labels)
    X_ref = as_features(X_ref)
    y_ref = as_labels(y_ref, "y_ref", n=len(X_ref))
    if len(labels) != len(images) or images.shape[1:] != X_ref.shape[1:]:
        raise ValueError(f"`images` {images.shape} need one entry each in `labels` ({len(labels)} given) and the "
                         f"shape of the records in `X_ref` {X_ref.shape[1:]}.")
    flat, ref = images.reshape(len(images), -1).astype(float), X_ref.reshape(len(X_ref), -1).astype(float)
    classes = np.unique(y_ref)
    if not np.isin(labels, classes).all():
        raise ValueError("every label in `labels` needs records of its class in `y_ref`.")
    means = np.stack([ref[y_ref == c].mean(0) for c in classes])
    dist = np.linalg.norm(flat[:, None, :] - means[None], axis=2)
    own = np.searchsorted(classes, labels)
    probs = predict_proba(evaluator, images) if isinstance(evaluator, torch.nn.Module) \
        else np.asarray(evaluator.predict_proba(images))
    if per_image:
        return probs.argmax(1) == labels
    return {"evaluator": float(np.mean(probs.argmax(1) == labels)),
            "nearest_mean": float(np.mean(classes[dist.argmin(1)] == labels)),
            "distance": dist[np.arange(len(labels)), own]}
