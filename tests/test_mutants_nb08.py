"""Mutant table of notebook 08 (see tests/_mutants.py): wrong answers rejected, right ones accepted, by the
notebook's check and by grading."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _mutants import check_inputs, mutant_tests  # noqa: E402, F401 (check_inputs: the fixture)

WRONG = {
    "8.1": {
        "no prior": """
def map_estimate(predictions, observed, sigma, prior):
    return np.argmax(-((observed[:, None] - predictions) / sigma) ** 2, axis=1)
""",
        "the prior added without its log": """
def map_estimate(predictions, observed, sigma, prior):
    return np.argmax(-0.5 * ((observed[:, None] - predictions) / sigma) ** 2 + prior[None, :], axis=1)
""",
        "sigma not squared": """
def map_estimate(predictions, observed, sigma, prior):
    return np.argmax(-0.5 * (observed[:, None] - predictions) ** 2 / sigma + np.log(prior), axis=1)
""",
        "no sigma": """
def map_estimate(predictions, observed, sigma, prior):
    return np.argmax(-0.5 * (observed[:, None] - predictions) ** 2 + np.log(prior), axis=1)
""",
        "likelihood times prior as probabilities (underflows)": """
def map_estimate(predictions, observed, sigma, prior):
    like = np.exp(-0.5 * ((observed[:, None] - predictions) / sigma) ** 2)
    return np.argmax(like * prior, axis=1)
""",
        "the last of equal candidates": """
def map_estimate(predictions, observed, sigma, prior):
    post = -0.5 * ((observed[:, None] - predictions) / sigma) ** 2 + np.log(prior)
    V = post.shape[1]
    return V - 1 - np.argmax(post[:, ::-1], axis=1)
""",
        "observed not broadcast per record": """
def map_estimate(predictions, observed, sigma, prior):
    return np.argmax(-0.5 * ((observed - predictions) / sigma) ** 2 + np.log(prior), axis=1)
""",
        "the closest prediction only (maximum likelihood)": """
def map_estimate(predictions, observed, sigma, prior):
    return np.argmin(np.abs(observed[:, None] - predictions), axis=1)
""",
    },
    "8.2": {
        "the noise ignored": """
def noisy_least_squares(X, y, noise_xx=None, noise_xy=None):
    return np.linalg.solve(X.T @ X, X.T @ y)
""",
        "the noise subtracted": """
def noisy_least_squares(X, y, noise_xx=None, noise_xy=None):
    xx = X.T @ X - (0 if noise_xx is None else noise_xx)
    xy = X.T @ y - (0 if noise_xy is None else noise_xy)
    return np.linalg.solve(xx, xy)
""",
        "plain least squares unless both noises are given": """
def noisy_least_squares(X, y, noise_xx=None, noise_xy=None):
    if noise_xx is None or noise_xy is None:
        return np.linalg.lstsq(X, y, rcond=None)[0]
    return np.linalg.solve(X.T @ X + noise_xx, X.T @ y + noise_xy)
""",
        "means instead of sums (XᵀX / n)": """
def noisy_least_squares(X, y, noise_xx=None, noise_xy=None):
    n = len(y)
    xx = X.T @ X / n + (0 if noise_xx is None else noise_xx)
    xy = X.T @ y / n + (0 if noise_xy is None else noise_xy)
    return np.linalg.solve(xx, xy)
""",
        "the noise on Xᵀy added to the solution instead": """
def noisy_least_squares(X, y, noise_xx=None, noise_xy=None):
    beta = np.linalg.solve(X.T @ X + (0 if noise_xx is None else noise_xx), X.T @ y)
    return beta + (0 if noise_xy is None else noise_xy)
""",
        "noise_xx only on the diagonal": """
def noisy_least_squares(X, y, noise_xx=None, noise_xy=None):
    xx = X.T @ X + (0 if noise_xx is None else np.diag(np.diag(noise_xx)))
    xy = X.T @ y + (0 if noise_xy is None else noise_xy)
    return np.linalg.solve(xx, xy)
""",
    },
    "8.3": {
        "only the previous cost compared (beta ignored)": """
def mi_face_descent(cost_grad, x0, lr, max_iter, beta, gamma):
    x = x0
    cost, grad = cost_grad(x)
    prev, best_x, best_cost = cost, x, cost
    for _ in range(max_iter):
        x = np.clip(x - lr * grad, 0.0, 1.0)
        cost, grad = cost_grad(x)
        if cost < best_cost:
            best_x, best_cost = x, cost
        if cost >= prev or cost <= gamma:
            break
        prev = cost
    return best_x, best_cost
""",
        "> instead of >= against the window": """
def mi_face_descent(cost_grad, x0, lr, max_iter, beta, gamma):
    x = x0
    cost, grad = cost_grad(x)
    costs, best_x, best_cost = [cost], x, cost
    for _ in range(max_iter):
        x = np.clip(x - lr * grad, 0.0, 1.0)
        cost, grad = cost_grad(x)
        if cost < best_cost:
            best_x, best_cost = x, cost
        if cost > max(costs[-beta:]) or cost <= gamma:
            break
        costs.append(cost)
    return best_x, best_cost
""",
        "< gamma instead of <=": """
def mi_face_descent(cost_grad, x0, lr, max_iter, beta, gamma):
    x = x0
    cost, grad = cost_grad(x)
    costs, best_x, best_cost = [cost], x, cost
    for _ in range(max_iter):
        x = np.clip(x - lr * grad, 0.0, 1.0)
        cost, grad = cost_grad(x)
        if cost < best_cost:
            best_x, best_cost = x, cost
        if cost >= max(costs[-beta:]) or cost < gamma:
            break
        costs.append(cost)
    return best_x, best_cost
""",
        "the last iterate returned": """
def mi_face_descent(cost_grad, x0, lr, max_iter, beta, gamma):
    x = x0
    cost, grad = cost_grad(x)
    costs = [cost]
    for _ in range(max_iter):
        x = np.clip(x - lr * grad, 0.0, 1.0)
        cost, grad = cost_grad(x)
        if cost >= max(costs[-beta:]) or cost <= gamma:
            break
        costs.append(cost)
    return x, cost
""",
        "no clip": """
def mi_face_descent(cost_grad, x0, lr, max_iter, beta, gamma):
    x = x0
    cost, grad = cost_grad(x)
    costs, best_x, best_cost = [cost], x, cost
    for _ in range(max_iter):
        x = x - lr * grad
        cost, grad = cost_grad(x)
        if cost < best_cost:
            best_x, best_cost = x, cost
        if cost >= max(costs[-beta:]) or cost <= gamma:
            break
        costs.append(cost)
    return best_x, best_cost
""",
        "the last of equal costs (<=)": """
def mi_face_descent(cost_grad, x0, lr, max_iter, beta, gamma):
    x = x0
    cost, grad = cost_grad(x)
    costs, best_x, best_cost = [cost], x, cost
    for _ in range(max_iter):
        x = np.clip(x - lr * grad, 0.0, 1.0)
        cost, grad = cost_grad(x)
        if cost <= best_cost:
            best_x, best_cost = x, cost
        if cost >= max(costs[-beta:]) or cost <= gamma:
            break
        costs.append(cost)
    return best_x, best_cost
""",
        "one step too few (max_iter - 1)": """
def mi_face_descent(cost_grad, x0, lr, max_iter, beta, gamma):
    x = x0
    cost, grad = cost_grad(x)
    costs, best_x, best_cost = [cost], x, cost
    for _ in range(max_iter - 1):
        x = np.clip(x - lr * grad, 0.0, 1.0)
        cost, grad = cost_grad(x)
        if cost < best_cost:
            best_x, best_cost = x, cost
        if cost >= max(costs[-beta:]) or cost <= gamma:
            break
        costs.append(cost)
    return best_x, best_cost
""",
        "the new cost in its own window": """
def mi_face_descent(cost_grad, x0, lr, max_iter, beta, gamma):
    x = x0
    cost, grad = cost_grad(x)
    costs, best_x, best_cost = [cost], x, cost
    for _ in range(max_iter):
        x = np.clip(x - lr * grad, 0.0, 1.0)
        cost, grad = cost_grad(x)
        costs.append(cost)
        if cost < best_cost:
            best_x, best_cost = x, cost
        if cost >= max(costs[-beta:]) or cost <= gamma:
            break
    return best_x, best_cost
""",
    },
    "8.4": {
        "forward differences": """
def finite_difference_gradient(f, x, h):
    d = len(x)
    values = f(np.vstack([x + h * np.eye(d), x[None, :]]))
    return (values[:d] - values[d]) / h
""",
        "the sign flipped": """
def finite_difference_gradient(f, x, h):
    d = len(x)
    steps = h * np.eye(d)
    values = f(np.concatenate([x + steps, x - steps]))
    return (values[d:] - values[:d]) / (2 * h)
""",
        "no division by h": """
def finite_difference_gradient(f, x, h):
    d = len(x)
    steps = h * np.eye(d)
    values = f(np.concatenate([x + steps, x - steps]))
    return (values[:d] - values[d:]) / 2
""",
        "divided by h, not 2h": """
def finite_difference_gradient(f, x, h):
    d = len(x)
    steps = h * np.eye(d)
    values = f(np.concatenate([x + steps, x - steps]))
    return (values[:d] - values[d:]) / h
""",
        "the query points clipped to [0, 1]": """
def finite_difference_gradient(f, x, h):
    d = len(x)
    steps = h * np.eye(d)
    values = f(np.clip(np.concatenate([x + steps, x - steps]), 0, 1))
    return (values[:d] - values[d:]) / (2 * h)
""",
        "every coordinate moved at once": """
def finite_difference_gradient(f, x, h):
    d = len(x)
    steps = h * np.ones((d, d))
    values = f(np.concatenate([x + steps, x - steps]))
    return (values[:d] - values[d:]) / (2 * h)
""",
        "central differences, and f(x) asked too": """
def finite_difference_gradient(f, x, h):
    d = len(x)
    steps = h * np.eye(d)
    values = f(np.concatenate([x + steps, x - steps, x[None, :]]))
    return (values[:d] - values[d:2 * d]) / (2 * h)
""",
    },
}

RIGHT = {
    "8.1": {
        "a loop over records with scipy's norm.logpdf": """
def map_estimate(predictions, observed, sigma, prior):
    from scipy.stats import norm
    out = []
    for pred, obs in zip(predictions, observed):
        out.append(int(np.argmax(norm.logpdf(obs, loc=pred, scale=sigma) + np.log(prior))))
    return np.array(out, dtype=int)
""",
        "argmin of the negative log posterior": """
def map_estimate(predictions, observed, sigma, prior):
    cost = (predictions - observed.reshape(-1, 1)) ** 2 / (2 * sigma ** 2) - np.log(prior)
    return cost.argmin(axis=1)
""",
        "plain Python lists, first best kept": """
def map_estimate(predictions, observed, sigma, prior):
    import math
    out = []
    for i in range(len(observed)):
        best, best_v = -math.inf, 0
        for v in range(len(prior)):
            score = -(observed[i] - predictions[i][v]) ** 2 / (2 * sigma * sigma) + math.log(prior[v])
            if score > best:
                best, best_v = score, v
        out.append(best_v)
    return np.array(out)
""",
    },
    "8.2": {
        "zeros for a missing noise, solve always": """
def noisy_least_squares(X, y, noise_xx=None, noise_xy=None):
    d = X.shape[1]
    nxx = np.zeros((d, d)) if noise_xx is None else noise_xx
    nxy = np.zeros(d) if noise_xy is None else noise_xy
    return np.linalg.solve(X.T @ X + nxx, X.T @ y + nxy)
""",
        "lstsq on the noisy normal equations": """
def noisy_least_squares(X, y, noise_xx=None, noise_xy=None):
    A = X.T @ X
    c = X.T @ y
    if noise_xx is not None:
        A = A + noise_xx
    if noise_xy is not None:
        c = c + noise_xy
    return np.linalg.lstsq(A, c, rcond=None)[0]
""",
        "scipy's cho_solve... as a plain scipy.linalg.solve": """
def noisy_least_squares(X, y, noise_xx=None, noise_xy=None):
    import scipy.linalg
    A = X.T @ X + (noise_xx if noise_xx is not None else 0.0)
    c = X.T @ y + (noise_xy if noise_xy is not None else 0.0)
    return scipy.linalg.solve(A, c)
""",
    },
    "8.3": {
        "all iterates stored, argmin at the end": """
def mi_face_descent(cost_grad, x0, lr, max_iter, beta, gamma):
    xs, cs = [np.asarray(x0, dtype=float)], []
    c, g = cost_grad(xs[0])
    cs.append(c)
    for i in range(max_iter):
        x = np.clip(xs[-1] - lr * g, 0, 1)
        c, g = cost_grad(x)
        stop = c >= max(cs[max(0, len(cs) - beta):]) or c <= gamma
        xs.append(x)
        cs.append(c)
        if stop:
            break
    k = int(np.argmin(cs))
    return xs[k], cs[k]
""",
        "a while loop and a deque window": """
def mi_face_descent(cost_grad, x0, lr, max_iter, beta, gamma):
    from collections import deque
    x = x0.copy()
    cost, grad = cost_grad(x)
    window = deque([cost], maxlen=beta)
    best = (x, cost)
    step = 0
    while step < max_iter:
        step += 1
        x = np.minimum(np.maximum(x - lr * grad, 0.0), 1.0)
        cost, grad = cost_grad(x)
        if cost < best[1]:
            best = (x, cost)
        if cost >= max(window) or cost <= gamma:
            break
        window.append(cost)
    return best
""",
        "the cost appended first, the window before it": """
def mi_face_descent(cost_grad, x0, lr, max_iter, beta, gamma):
    x = x0
    cost, grad = cost_grad(x)
    costs, best_x, best_cost = [cost], x, cost
    for _ in range(max_iter):
        x = np.clip(x - lr * grad, 0.0, 1.0)
        cost, grad = cost_grad(x)
        costs.append(cost)
        if cost < best_cost:
            best_x, best_cost = x, cost
        if cost >= max(costs[-beta - 1:-1]) or cost <= gamma:
            break
    return best_x, best_cost
""",
        "the test before the best update": """
def mi_face_descent(cost_grad, x0, lr, max_iter, beta, gamma):
    x = x0
    cost, grad = cost_grad(x)
    costs, best_x, best_cost = [cost], x, cost
    for _ in range(max_iter):
        x = np.clip(x - lr * grad, 0.0, 1.0)
        cost, grad = cost_grad(x)
        stop = cost >= max(costs[-beta:]) or cost <= gamma
        if cost < best_cost:
            best_x, best_cost = x, cost
        if stop:
            break
        costs.append(cost)
    return best_x, best_cost
""",
    },
    "8.4": {
        "a loop of 2d single-point calls": """
def finite_difference_gradient(f, x, h):
    grad = np.zeros(len(x))
    for i in range(len(x)):
        e = np.zeros(len(x))
        e[i] = h
        grad[i] = (f((x + e)[None, :])[0] - f((x - e)[None, :])[0]) / (2 * h)
    return grad
""",
        "np.diag steps, vstack": """
def finite_difference_gradient(f, x, h):
    steps = np.diag(np.full(x.shape[0], h))
    up, down = f(x + steps), f(x - steps)
    return (up - down) / (2.0 * h)
""",
        "broadcast with a sign axis": """
def finite_difference_gradient(f, x, h):
    d = x.size
    pts = x[None, None, :] + np.array([1.0, -1.0])[:, None, None] * h * np.eye(d)[None]
    v = f(pts.reshape(2 * d, d)).reshape(2, d)
    return (v[0] - v[1]) / (2 * h)
""",
    },
}

test_wrong, test_right, test_wrong_every_draw, test_right_every_draw, test_use_reference = \
    mutant_tests(WRONG, RIGHT, seeds=30)  # every hidden test runs the check's edge cases first, whatever the seed
