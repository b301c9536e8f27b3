"""RBM: contrastive divergence, the exact pseudo-likelihood, the transformer."""

import itertools
import pickle
import signal

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skdeep import RBM
from skdeep._contrastive import set_cd_gradients
from skdeep.modules import RBM as RBMModule


@pytest.fixture(scope="module")
def digits01():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16, y, test_size=0.25, random_state=0)


def module_from(components, hidden, visible) -> RBMModule:
    module = RBMModule(components.shape[1], components.shape[0])
    with torch.no_grad():
        module.weight.copy_(torch.as_tensor(components))
        module.hidden_bias.copy_(torch.as_tensor(hidden))
        module.visible_bias.copy_(torch.as_tensor(visible))
    return module


def test_pseudo_likelihood_at_least_bernoulli_rbm(digits01):
    X_train, X_test, _, _ = digits01
    params = dict(n_components=64, learning_rate=0.05, batch_size=10)
    ours = RBM(**params, max_iter=10, random_state=0).fit(X_train)
    theirs = BernoulliRBM(**params, n_iter=10, random_state=0).fit(X_train)
    # One metric for both: the exact pseudo-likelihood of each model's weights.
    v = torch.as_tensor(X_test, dtype=torch.float32)
    pll = {
        name: module_from(m.components_, m.intercept_hidden_, m.intercept_visible_)
        .pseudo_log_likelihood(v)
        .mean()
        .item()
        for name, m in [("ours", ours), ("theirs", theirs)]
    }
    assert pll["ours"] >= pll["theirs"], pll
    np.testing.assert_allclose(
        ours.score_samples(X_test).mean(), pll["ours"], rtol=1e-5
    )


def test_exact_pseudo_likelihood_is_the_expectation_of_sklearns_estimate():
    rng = np.random.RandomState(0)
    rbm = BernoulliRBM(n_components=5, random_state=0).fit(rng.rand(30, 6) > 0.5)
    v = (rng.rand(1, 6) > 0.5).astype(float)
    module = module_from(rbm.components_, rbm.intercept_hidden_, rbm.intercept_visible_)
    exact = module.pseudo_log_likelihood(torch.as_tensor(v, dtype=torch.float32))
    # sklearn flips one random feature and multiplies by n_features.
    estimates = [rbm.score_samples(v)[0] for _ in range(3000)]
    np.testing.assert_allclose(np.mean(estimates), exact.item(), rtol=0.05)


def test_score_samples_is_deterministic_and_per_row(digits01):
    X_train, X_test, _, _ = digits01
    rbm = RBM(n_components=16, max_iter=2, random_state=0).fit(X_train)
    scores = rbm.score_samples(X_test)
    np.testing.assert_array_equal(scores, rbm.score_samples(X_test))
    np.testing.assert_allclose(rbm.score_samples(X_test[5:9]), scores[5:9], rtol=1e-6)


def test_closed_form_update_equals_autograd_of_free_energy():
    torch.manual_seed(0)
    for units in ("bernoulli", "gaussian"):
        rbm = RBMModule(6, 4, units)
        with torch.no_grad():
            rbm.weight.normal_()
        v_data, v_model = torch.rand(8, 6), torch.rand(8, 6)
        loss = rbm.free_energy(v_data).mean() - rbm.free_energy(v_model).mean()
        expected = torch.autograd.grad(loss, list(rbm.parameters()))
        with torch.no_grad():
            set_cd_gradients(rbm, v_data, rbm(v_data), v_model, rbm(v_model))
        for param, grad in zip(rbm.parameters(), expected, strict=True):
            torch.testing.assert_close(param.grad, grad)


def test_cd_k_agrees_with_the_exact_likelihood_gradient():
    # 4 visible / 3 hidden units: every visible state can be enumerated, so
    # the model expectation of the log-likelihood gradient is exact.
    torch.manual_seed(0)
    rbm = RBMModule(4, 3)
    with torch.no_grad():
        rbm.weight.normal_(std=1.0)
        rbm.hidden_bias.normal_(std=0.5)
        rbm.visible_bias.normal_(std=0.5)
    data = torch.tensor([[1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1]], dtype=torch.float32)
    states = torch.tensor(
        list(itertools.product([0, 1], repeat=4)), dtype=torch.float32
    )
    p_model = torch.softmax(-rbm.free_energy(states), dim=0).detach()
    # Gradient of the negative mean log-likelihood, by autograd.
    nll = rbm.free_energy(data).mean() - (p_model * rbm.free_energy(states)).sum()
    exact = torch.autograd.grad(nll, rbm.weight)[0]
    # CD-k with long chains from the data: many parallel chains, k large.
    with torch.no_grad():
        v_data = data.repeat(4000, 1)
        v_model = rbm.gibbs(v_data, steps=50)
        set_cd_gradients(rbm, v_data, rbm(v_data), v_model, rbm(v_model))
    cd = rbm.weight.grad
    large = exact.abs() > 0.05
    assert torch.equal(torch.sign(cd[large]), torch.sign(exact[large]))
    assert (
        torch.nn.functional.cosine_similarity(cd.flatten(), exact.flatten(), dim=0)
        > 0.95
    )
    torch.testing.assert_close(cd, exact, atol=0.03, rtol=0.2)


def test_bernoulli_rbm_api(digits01):
    X_train, X_test, _, _ = digits01
    rbm = RBM(n_components=20, max_iter=3, random_state=0).fit(X_train)
    assert rbm.components_.shape == (20, 64)
    assert rbm.intercept_hidden_.shape == (20,)
    assert rbm.intercept_visible_.shape == (64,)
    assert rbm.n_iter_ == 3
    assert (
        len(rbm.reconstruction_error_curve_) == len(rbm.pseudo_likelihood_curve_) == 3
    )
    assert rbm.reconstruction_error_curve_[-1] < rbm.reconstruction_error_curve_[0]
    h = rbm.transform(X_test)
    assert h.shape == (len(X_test), 20) and ((h >= 0) & (h <= 1)).all()
    assert rbm.inverse_transform(h).shape == X_test.shape
    assert rbm.reconstruct(X_test).shape == X_test.shape
    sample = rbm.gibbs(X_test[:5])
    assert set(np.unique(sample)) <= {0.0, 1.0}
    assert not np.array_equal(rbm.gibbs(X_test[:50]), rbm.gibbs(X_test[:50]))
    assert list(rbm.get_feature_names_out())[:2] == ["rbm0", "rbm1"]
    frame = rbm.set_output(transform="pandas").transform(X_test)
    assert list(frame.columns[:2]) == ["rbm0", "rbm1"]
    rbm.set_output(transform="default")
    restored = pickle.loads(pickle.dumps(rbm))
    np.testing.assert_array_equal(restored.transform(X_test), h)
    # The persistent chain keeps a full batch's rows past short last batches.
    assert len(rbm.net_.chain_) == 10 and len(X_train) % 10 != 0
    rbm.partial_fit(X_test)
    assert rbm.n_iter_ == 4


@pytest.mark.parametrize("optimizer", ["momentum", "adam", torch.optim.RMSprop])
@pytest.mark.parametrize("persistent", [True, False])
def test_any_optimizer_and_chain_learn(digits01, optimizer, persistent):
    X_train = digits01[0]
    rbm = RBM(
        n_components=16,
        optimizer=optimizer,
        learning_rate=0.01,
        cd_steps=2,
        persistent=persistent,
        batch_size=32,
        max_iter=5,
        random_state=0,
    ).fit(X_train)
    # An untrained machine (zero weights) scores 64 * log(1/2) = -44.4.
    assert rbm.pseudo_likelihood_curve_[-1] > -30


def test_gaussian_units_learn_standardised_data(digits01):
    X = StandardScaler().fit_transform(digits01[0])
    rbm = RBM(
        n_components=32,
        visible_units="gaussian",
        learning_rate=0.01,
        batch_size=20,
        max_iter=8,
        random_state=0,
    ).fit(X)
    curve = rbm.reconstruction_error_curve_
    assert curve[-1] < 0.8 * curve[0]
    assert rbm.pseudo_likelihood_curve_ is None
    assert rbm.score_samples(X[:5]).shape == (5,)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_rbm_features_beat_raw_pixels(nudged_digits):
    # scikit-learn's "RBM features for digit classification" experiment.
    X_train, X_test, y_train, y_test = nudged_digits
    logistic = LogisticRegression(C=100, max_iter=100)
    raw = logistic.fit(X_train, y_train).score(X_test, y_test)
    rbm = RBM(n_components=100, learning_rate=0.06, max_iter=10, random_state=0)
    features = make_pipeline(rbm, LogisticRegression(C=100, max_iter=100))
    assert features.fit(X_train, y_train).score(X_test, y_test) > raw + 0.08


def test_bad_input():
    X = np.random.RandomState(0).rand(20, 4)
    with pytest.raises(ValueError, match=r"Bernoulli visible units need X in \[0, 1\]"):
        RBM(visible_units="bernoulli").fit(X * 2)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        RBM().fit(np.where(X > 0.9, np.nan, X))
    with pytest.raises(ValueError, match="Input X contains infinity"):
        RBM(visible_units="gaussian").fit(np.where(X > 0.9, np.inf, X))
    rbm = RBM(n_components=3, max_iter=1).fit(X)
    with pytest.raises(ValueError, match="X has 5 features"):
        rbm.transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="expected 3"):
        rbm.inverse_transform(np.zeros((2, 4)))
    # New rows just outside [0, 1] are fine at transform time.
    assert rbm.transform(X * 1.1 - 0.05).shape == (20, 3)


def test_diverging_training_says_where():
    X = np.random.RandomState(0).randn(200, 5) * 100
    rbm = RBM(4, visible_units="gaussian", learning_rate=10.0, max_iter=20)
    # Caught as soon as the weights pass 1e4, before the error turns inf.
    message = r"weight became \S+ at epoch 1: .*lower learning_rate \(it was 10.0\)"
    with pytest.raises(ValueError, match=message):
        rbm.fit(X)
    assert not hasattr(rbm, "net_")


def test_minmax_pipeline_on_unseen_rows(digits01):
    X_train, X_test, y_train, y_test = digits01
    pipe = make_pipeline(
        MinMaxScaler(),
        RBM(n_components=32, max_iter=20, random_state=0),
        LogisticRegression(max_iter=500),
    )
    pipe.fit(X_train[:400], y_train[:400])
    # Scaled by the training rows' MinMaxScaler, test rows leave [0, 1].
    scaled = pipe[0].transform(X_test)
    assert scaled.min() < 0 or scaled.max() > 1
    assert pipe.score(X_test, y_test) > 0.7


def test_persistent_chain_carries_over_between_batches(monkeypatch):
    # PCD starts its chain from the data once; CD restarts at every batch.
    import skdeep._contrastive as contrastive

    X = (np.random.RandomState(0).rand(40, 6) > 0.5).astype(float)
    starts = {}
    for persistent in (True, False):
        calls = []
        original = contrastive.bernoulli
        def counted(p, calls=calls, original=original):
            calls.append(p)
            return original(p)

        monkeypatch.setattr(contrastive, "bernoulli", counted)
        RBM(3, persistent=persistent, batch_size=10, max_iter=2).fit(X)
        monkeypatch.undo()
        starts[persistent] = len(calls)
    # 8 steps: PCD samples the data's hidden units once, then only the chain;
    # CD (cd_steps=1) samples the data's hidden units at each step.
    assert starts == {True: 1 + 8, False: 8}


def test_ctrl_c_keeps_completed_epochs(monkeypatch):
    from skdeep._contrastive import RBMNet
    from skdeep._net import TrainingInterrupted

    X = (np.random.RandomState(0).rand(40, 6) > 0.5).astype(float)
    step = RBMNet._cd_step
    calls = []

    def interrupted_step(net, v):  # Ctrl-C in the 3rd epoch (4 steps each)
        calls.append(1)
        if len(calls) == 10:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C
        step(net, v)

    monkeypatch.setattr(RBMNet, "_cd_step", interrupted_step)
    rbm = RBM(3, batch_size=10, max_iter=5, random_state=0)
    with pytest.raises(TrainingInterrupted), pytest.warns(UserWarning, match="2 comp"):
        rbm.fit(X)
    assert rbm.n_iter_ == len(rbm.reconstruction_error_curve_) == 2
    assert rbm.transform(X).shape == (40, 3)
    calls.clear()
    fresh = RBM(3, batch_size=10, max_iter=5)
    with pytest.raises(KeyboardInterrupt):  # in the first epoch: nothing kept
        calls.extend([1] * 8)
        fresh.fit(X)
    assert not hasattr(fresh, "net_")
