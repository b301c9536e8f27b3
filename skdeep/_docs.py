"""Docstring fragments shared by the estimators, so each is written once."""

__all__ = ["fill_doc"]

ACTIVATION_NAMES = """``"identity"``, ``"sigmoid"`` (alias
        ``"logistic"``), ``"tanh"``, ``"relu"``, ``"leaky_relu"``, ``"elu"``,
        ``"selu"``, ``"gelu"``, ``"silu"`` (alias ``"swish"``),
        ``"softplus"``, or an ``nn.Module`` class built without arguments"""

MLP_PARAMS = f"""\
hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer; ``()`` gives a linear (perceptron) model.
    activation : str or type of torch.nn.Module, default="relu"
        Hidden-layer activation: {ACTIVATION_NAMES}. The dense weights are
        initialised for it, so deep nets start trainable: He initialisation
        before the rectifiers, LeCun before SELU, Glorot before tanh and
        sigmoid, zero biases; torch's default for any other class and for
        the output layer."""

NET_PARAMS = """\
dropout : float or sequence of float, default=0.0
        Dropout rate in [0, 1) after each hidden layer: one for all, or one
        per hidden layer.
    batch_norm : bool, default=False
        Batch-normalise each hidden layer before its activation. A last
        batch of a single row is folded into the one before it.
    optimizer : str or type of torch.optim.Optimizer, default="adam"
        ``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adagrad"``,
        ``"adadelta"``, ``"rmsprop"``, ``"adam"``, ``"adamw"``, ``"nadam"``,
        ``"radam"``, or any ``torch.optim.Optimizer`` subclass.
    learning_rate : float, default=None (0.01 for the RNNs)
        Step size. ``None`` uses the optimizer's own default (0.01 for the
        SGD family and adagrad, 1.0 for adadelta, 0.002 for nadam, 0.001
        otherwise), so a grid over optimizers needs no grid over rates. The
        RNNs default to 0.01: at Adam's 0.001 a recurrent net on a small
        set (one full batch an epoch) reached R^2 0.60-0.62 in 200 epochs
        where 0.01 reached 0.93 in 150; pass ``None`` to grid over
        optimizers.
    momentum : float, default=0.9
        Momentum of ``optimizer="momentum"`` and ``"nesterov"``.
    alpha : float, default=1e-4
        L2 penalty on the weights (not the biases): ``0.5 * alpha * ||W||^2``
        is added to the mean loss of each batch (the optimizer's
        ``weight_decay``; decoupled for ``"adamw"``). Unlike
        ``MLPClassifier``, it is not divided by the batch size, so a grid
        over ``batch_size`` does not change the regularisation, and sample
        weights stay equivalent to repeated rows.
    batch_size : int, "auto" or "full", default="auto" (32 for the DBNs)
        Rows per gradient step: ``"auto"`` is ``min(200, n_samples)``,
        ``"full"`` is batch gradient descent, ``1`` stochastic gradient
        descent, any other ``n`` mini-batch gradient descent. The DBNs'
        sigmoid networks fine-tune in smaller batches: on standardised
        digits, 32 reached 0.971-0.976 test accuracy over three seeds where
        ``"auto"`` reached 0.967-0.971 in 200 epochs.
    max_iter : int, default=200
        Maximum number of epochs (passes over the training data).
    shuffle : bool, default=True
        Shuffle the rows before each epoch.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified
        for classifiers), stop when its score has not improved by ``tol``
        for ``n_iter_no_change`` epochs, and keep the best epoch's weights.
        Without it, training stops when the training loss has not improved
        by ``tol`` for ``n_iter_no_change`` epochs, and the weights of the
        epoch with the lowest training loss are kept. Either way, a network
        with batch normalisation then recomputes its statistics on the
        training rows (the running averages of the last mini-batches can be
        far off on small data); on more than 2,048 rows, on a random 2,048
        of them.
    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping=True``:
        ``ceil(validation_fraction * n_samples)`` rows, as
        ``train_test_split`` counts them. The validation score must be able
        to rank the epochs, so ``fit`` raises a ``ValueError`` naming this
        parameter when fewer than 2 rows are held out; for a classifier (a
        stratified split), when a class has fewer than 2 samples, or fewer
        rows than classes are held out or left to train on; for a
        regressor, when the held-out targets are all equal (their R² is 0
        whatever the weights); and when the held-out or the training rows
        all have zero ``sample_weight``. Such a score would be the same at
        every epoch: training would stop early on the first epoch's weights.
    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` before stopping.
    tol : float, default=1e-4
        Smallest change of the monitored loss or score that counts.
    lr_schedule : {"plateau", "cosine", "step"} or None, default=None
        How the learning rate changes over the epochs: ``None`` keeps it;
        ``"plateau"`` divides it by 5 when the monitored value (validation
        score with ``early_stopping``, else training loss) has not improved
        by ``tol`` for half of ``n_iter_no_change`` epochs; ``"cosine"``
        anneals it to zero over ``max_iter`` epochs; ``"step"`` divides it
        by 10 after each third of ``max_iter``. The rate of each epoch is in
        ``history_[:, "lr"]``.
    dtype : {"float32", "float64"} or None, default=None
        Precision of training and outputs. ``None`` follows X as
        scikit-learn does: float32 X trains in float32 (the fast path),
        anything else in float64; on CUDA, ``None`` means float32, where
        float64 is many times slower.
    device : str or torch.device, default="auto"
        Where to train: ``"auto"`` is CUDA when available, else the CPU.
        ``fit`` refuses, with a ``ValueError``, a device this machine or
        PyTorch build cannot allocate on (``"cuda"`` without a GPU, an index
        past the last GPU, ``"mps"`` or ``"xla"`` without their backends) and
        ``"meta"``, whose tensors hold no data.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation
        split: an int gives the same model run after run on the CPU.
    verbose : int, default=0
        ``1`` prints a table row per epoch, ``2`` adds a progress bar.
    warm_start : bool, default=False
        Continue from the previous fit instead of starting anew.
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks (instances or ``(name, callback)`` pairs), for
        checkpoints, learning-rate schedules and the like. They are copied at
        each fit."""

DBN_PARAMS = f"""\
hidden_layer_sizes : tuple of int, default=(256, 128)
        Width of each hidden layer; one RBM is pretrained per layer.
    activation : str or type of torch.nn.Module, default="sigmoid"
        Hidden activation while fine-tuning. Sigmoid units are what the RBMs
        were trained as; others ({ACTIVATION_NAMES}) start from the same
        weights.
    pretrain : bool, default=True
        Pretrain the hidden layers as a DBN before fine-tuning; ``False``
        trains the same network from a random start.
    pretrain_max_iter : int, default=10
        Epochs of each RBM.
    pretrain_learning_rate : float or None, default=None
        SGD step size of the RBMs (PCD-1); ``None`` is 0.1 for Bernoulli and
        0.01 for Gaussian visible units.
    pretrain_batch_size : int, default=10
        Rows per RBM update.
    visible_units : {{"auto", "bernoulli", "gaussian"}}, default="auto"
        First RBM's visible units: Bernoulli for X in [0, 1], Gaussian
        (standardised inside the RBM) for real-valued X; ``"auto"`` picks
        by the range of the training X. Pretraining reads the rows in an
        order set by their values, an integer ``sample_weight`` repeating a
        row (a fractional part adds a copy with that probability)."""

NET_ATTRIBUTES = """\
n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X had string column names.
    n_outputs_ : int
        Width of the network's output layer.
    n_iter_ : int
        Epochs trained (accumulated over ``warm_start`` and ``partial_fit``).
    loss_curve_ : list of float
        Training loss at each epoch.
    validation_scores_ : list of float or None
        Validation score at each epoch when ``early_stopping=True``.
    best_validation_score_ : float or None
        Best validation score when ``early_stopping=True``.
    best_loss_ : float or None
        Lowest training loss when ``early_stopping=False``.
    device_ : str
        The device the net was trained on.
    net_ : skorch.NeuralNet
        The configured skorch net (callbacks, optimizer, history).
    module_ : torch.nn.Module
        The trained torch module (``net_.module_``).
    history_ : skorch.History
        One record per epoch: losses, scores, duration."""

REGRESSION_LOSS = """\
loss : {"squared_error", "absolute_error", "huber"}, default="squared_error"
        Training loss: the mean squared error, the mean absolute error
        (robust to outliers in y, its gradient never shrinks), or the Huber
        loss (``torch.nn.HuberLoss`` with ``delta=1``: squared for residuals
        below 1, absolute above, so its switch point assumes targets on a
        unit scale). Targets are used as given: standardise them (e.g. with
        ``TransformedTargetRegressor``) when their scale is far from one."""

THREADS_NOTE = """\
Training steps below 1e7 multiply-adds (``batch_size`` times the number
    of parameters) run on one intra-op torch thread: on few cores a second
    thread gains little there and costs several times its time as soon as
    another process holds the other core. Larger steps use
    ``torch.get_num_threads()``, which follows ``OMP_NUM_THREADS``,
    ``torch.set_num_threads`` and the one-thread limit joblib gives each
    ``GridSearchCV(n_jobs=...)`` worker on a small machine; on a machine
    shared with other work, ``torch.set_num_threads(1)`` keeps them safe
    too. In a Dask worker running several tasks at once, every step runs on
    one thread. The thread count can change the last bits of a result: fits repeat
    exactly under the same thread setting."""


def fill_doc(cls=None, **fragments):
    """Fill the ``{fragment}`` fields of a class docstring.

    ``@fill_doc`` uses the shared fragments; ``@fill_doc(name=text, ...)``
    adds a family's own.
    """
    if cls is None:
        return lambda cls: fill_doc(cls, **fragments)
    cls.__doc__ = cls.__doc__.format(
        activation_names=ACTIVATION_NAMES,
        mlp_params=MLP_PARAMS,
        dbn_params=DBN_PARAMS,
        net_params=NET_PARAMS,
        net_attributes=NET_ATTRIBUTES,
        threads_note=THREADS_NOTE,
        regression_loss=REGRESSION_LOSS,
        **fragments,
    )
    return cls
