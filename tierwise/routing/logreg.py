"""Multi-output logistic regression with soft targets, fitted by L-BFGS in plain numpy.

Why not scikit-learn: it costs ~1 s of import and ~100 MB of install for one convex fit; numpy does it in
about 60 lines. Soft targets (quality in 0..1, e.g. a judge score / 10) use the same cross-entropy as 0/1
labels, so one model predicts expected quality for binary and graded tables alike.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .features import Csr


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def fit(
    x: Csr,
    y: np.ndarray,
    l2: float,
    *,
    max_iter: int = 300,
    tol: float = 1e-6,
    start: tuple[np.ndarray, np.ndarray] | None = None,
    sample_weight: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    prior: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Minimise mean weighted cross-entropy(y, σ(XW + b)) + l2/2·|W - prior|². Returns (W: (n_cols, k), b: (k,)).

    `start` warm-starts from an earlier (W, b), e.g. the fit at the next-larger l2 on a regularisation path.
    `sample_weight` (n,) reweights rows, e.g. so each source of a pooled table counts the same; it is scaled
    to mean 1 so l2 means the same with or without it.
    `mask` (n, k) of 0/1 marks the cells whose label is known: traffic labels often say how one model did and
    not the other (a judged cheap draft), and an unknown cell must pull its head nowhere. `prior` (n_cols, k)
    shrinks W towards an earlier router's weights instead of towards 0: fine-tuning on a few labels keeps what
    the earlier router knew about the features those labels never show.
    """
    n, k = y.shape
    d = x.n_cols
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float) / np.mean(sample_weight)
    known = np.ones((n, k)) if mask is None else np.asarray(mask, dtype=float)
    y = np.where(known > 0, np.nan_to_num(y), 0.0)
    w0 = np.zeros((d, k)) if prior is None else np.asarray(prior, dtype=float)
    seen = np.maximum((sw[:, None] * known).sum(axis=0), 1e-12)
    base = np.clip((sw[:, None] * known * y).sum(axis=0) / seen, 1e-4, 1 - 1e-4)

    def loss_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = theta[: d * k].reshape(d, k)
        b = theta[d * k :]
        z = x.dot(w) + b
        # log(1 + e^z) - y z, computed stably
        dw = w - w0
        cells = known * (np.logaddexp(0.0, z) - y * z)
        loss = float(np.mean(sw * np.sum(cells, axis=1))) + 0.5 * l2 * float(np.sum(dw * dw))
        r = sw[:, None] * known * (_sigmoid(z) - y) / n
        gw = x.tdot(r) + l2 * dw
        return loss, np.concatenate([gw.ravel(), r.sum(axis=0)])

    if start is None:
        theta0 = np.concatenate([w0.ravel(), np.log(base / (1 - base))])
    else:
        theta0 = np.concatenate([start[0].ravel(), start[1]])
    theta = lbfgs(loss_grad, theta0, max_iter=max_iter, tol=tol)
    return theta[: d * k].reshape(d, k), theta[d * k :]


def predict(x: Csr, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _sigmoid(x.dot(w) + b)


def lbfgs(
    f: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: np.ndarray,
    *,
    max_iter: int = 300,
    memory: int = 10,
    tol: float = 1e-6,
) -> np.ndarray:
    """Limited-memory BFGS with a backtracking (Armijo) line search; enough for smooth convex losses."""
    x = x0.copy()
    fx, g = f(x)
    s_hist: list[np.ndarray] = []
    y_hist: list[np.ndarray] = []
    for _ in range(max_iter):
        if np.max(np.abs(g)) < tol:
            break
        # two-loop recursion
        q = g.copy()
        alphas = []
        for s, yv in zip(reversed(s_hist), reversed(y_hist), strict=True):
            rho = 1.0 / float(yv @ s)
            a = rho * float(s @ q)
            alphas.append((rho, a))
            q -= a * yv
        if s_hist:
            q *= float(s_hist[-1] @ y_hist[-1]) / float(y_hist[-1] @ y_hist[-1])
        for (s, yv), (rho, a) in zip(zip(s_hist, y_hist, strict=True), reversed(alphas), strict=True):
            q += s * (a - rho * float(yv @ q))
        direction = -q
        slope = float(g @ direction)
        if slope >= 0:  # not a descent direction: restart from steepest descent
            s_hist.clear()
            y_hist.clear()
            direction, slope = -g, -float(g @ g)
        step = 1.0 if s_hist else min(1.0, 1.0 / max(np.abs(g).sum(), 1e-12))
        for _ls in range(40):
            x_new = x + step * direction
            f_new, g_new = f(x_new)
            if f_new <= fx + 1e-4 * step * slope:
                break
            step *= 0.5
        else:
            break
        s, yv = x_new - x, g_new - g
        if float(s @ yv) > 1e-12:
            s_hist.append(s)
            y_hist.append(yv)
            if len(s_hist) > memory:
                s_hist.pop(0)
                y_hist.pop(0)
        converged = abs(fx - f_new) <= tol * max(1.0, abs(fx))
        x, fx, g = x_new, f_new, g_new
        if converged:
            break
    return x
