"""Neural ODE training by backpropagation through an ODE solver: the peers.

Both peers train the same network as ``CollocationNeuralODE``: one hidden
layer of 32 tanh units and a linear output, on the concatenation of states
and inputs (inputs linearly interpolated between samples), in float64. The
trajectory starts at the first (noisy) sample, and each epoch is one
full-batch Adam step on the mean squared error of that trajectory. Training
first uses the first 20% of the samples, then all of them. The protocols
are those of Shapovalova and Tsay (2025) for their baselines:

- torchdiffeq: ``dopri5``, rtol 1e-3, atol 1e-6, Adam with learning rate
  1e-3 and weight decay 1e-5, 400 epochs on 20% then 750 on all samples,
  gradients by backpropagation through the solver steps.
- diffrax: ``Tsit5`` with a PID step-size controller (rtol 1e-3, atol
  1e-6), dt0 1e-3, Adam with learning rate 1e-3, 1000 epochs on 20% then
  30,000 on all samples. The training step is compiled by
  ``equinox.filter_jit``. Adjoint (recursive checkpointing) and
  ``max_steps`` (4096) are diffrax's defaults.

Each fit returns the weights in the layout of ``sklearn_nodecoll.network``
(``coefs[l]`` of shape (fan_in, fan_out)), so that all tools are scored by
the same scipy rollout.
"""

import math
import time

import numpy as np

HIDDEN_UNITS = 32
TRAIN_FRACTION = 0.2
TORCHDIFFEQ_EPOCHS = (400, 750)
DIFFRAX_EPOCHS = (1000, 30_000)
RTOL, ATOL = 1e-3, 1e-6
LEARNING_RATE = 1e-3
TORCH_WEIGHT_DECAY = 1e-5
DIFFRAX_DT0 = 1e-3
PROGRESS_EVERY = 50


def _phases(n_samples, epochs, epoch_fraction):
    """Return (number of leading samples, epochs) for the two training phases."""
    first = max(2, math.ceil(TRAIN_FRACTION * n_samples))
    return [
        (first, max(1, round(epochs[0] * epoch_fraction))),
        (n_samples, max(1, round(epochs[1] * epoch_fraction))),
    ]


def fit_torchdiffeq(case, seed, progress, epoch_fraction=1.0):
    """Train with torchdiffeq; return (coefs, intercepts, epochs run, fit seconds)."""
    import torch
    from torchdiffeq import odeint

    start = time.perf_counter()
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(seed)
    t = torch.as_tensor(case["t"])
    y = torch.as_tensor(case["y"])
    n_states = y.shape[1]
    inputs = None if case["u"] is None else torch.as_tensor(case["u"])
    n_inputs = 0 if inputs is None else inputs.shape[1]
    net = torch.nn.Sequential(
        torch.nn.Linear(n_states + n_inputs, HIDDEN_UNITS),
        torch.nn.Tanh(),
        torch.nn.Linear(HIDDEN_UNITS, n_states),
    )

    def interpolate_inputs(time_point):
        index = torch.searchsorted(t, time_point.reshape(1)).clamp(1, t.numel() - 1)
        weight = (time_point - t[index - 1]) / (t[index] - t[index - 1])
        return (inputs[index - 1] + weight[:, None] * (inputs[index] - inputs[index - 1]))[0]

    def vector_field(time_point, state):
        if inputs is None:
            return net(state)
        return net(torch.cat([state, interpolate_inputs(time_point)]))

    optimizer = torch.optim.Adam(
        net.parameters(), lr=LEARNING_RATE, weight_decay=TORCH_WEIGHT_DECAY
    )
    epochs_run = 0
    for n_used, n_epochs in _phases(len(t), TORCHDIFFEQ_EPOCHS, epoch_fraction):
        for _ in range(n_epochs):
            optimizer.zero_grad()
            trajectory = odeint(
                vector_field, y[0], t[:n_used], method="dopri5", rtol=RTOL, atol=ATOL
            )
            loss = torch.mean((trajectory - y[:n_used]) ** 2)
            loss.backward()
            optimizer.step()
            epochs_run += 1
            if epochs_run % PROGRESS_EVERY == 0:
                progress(epochs_run, float(loss.detach()))
    fit_time = time.perf_counter() - start

    layers = [net[0], net[2]]
    coefs = [layer.weight.detach().numpy().T.copy() for layer in layers]
    intercepts = [layer.bias.detach().numpy().copy() for layer in layers]
    return coefs, intercepts, epochs_run, fit_time


def fit_diffrax(case, seed, progress, epoch_fraction=1.0):
    """Train with diffrax; return (coefs, intercepts, epochs run, fit seconds)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import diffrax
    import equinox as eqx
    import jax.numpy as jnp
    import optax

    start = time.perf_counter()
    t = jnp.asarray(case["t"])
    y = jnp.asarray(case["y"])
    n_states = y.shape[1]
    control = None
    n_inputs = 0
    if case["u"] is not None:
        control = diffrax.LinearInterpolation(ts=t, ys=jnp.asarray(case["u"]))
        n_inputs = case["u"].shape[1]
    mlp = eqx.nn.MLP(
        n_states + n_inputs,
        n_states,
        width_size=HIDDEN_UNITS,
        depth=1,
        activation=jnp.tanh,
        key=jax.random.PRNGKey(seed),
    )

    def vector_field(time_point, state, model):
        if control is None:
            return model(state)
        return model(jnp.concatenate([state, control.evaluate(time_point)]))

    def loss_function(model, times, targets):
        solution = diffrax.diffeqsolve(
            diffrax.ODETerm(vector_field),
            diffrax.Tsit5(),
            t0=times[0],
            t1=times[-1],
            dt0=DIFFRAX_DT0,
            y0=targets[0],
            args=model,
            saveat=diffrax.SaveAt(ts=times),
            stepsize_controller=diffrax.PIDController(rtol=RTOL, atol=ATOL),
        )
        return jnp.mean((solution.ys - targets) ** 2)

    optimizer = optax.adam(LEARNING_RATE)
    opt_state = optimizer.init(eqx.filter(mlp, eqx.is_inexact_array))

    @eqx.filter_jit
    def train_step(model, opt_state, times, targets):
        loss, grads = eqx.filter_value_and_grad(loss_function)(model, times, targets)
        updates, opt_state = optimizer.update(grads, opt_state, model)
        return loss, eqx.apply_updates(model, updates), opt_state

    epochs_run = 0
    for n_used, n_epochs in _phases(len(t), DIFFRAX_EPOCHS, epoch_fraction):
        times, targets = t[:n_used], y[:n_used]
        for _ in range(n_epochs):
            loss, mlp, opt_state = train_step(mlp, opt_state, times, targets)
            epochs_run += 1
            if epochs_run % PROGRESS_EVERY == 0:
                progress(epochs_run, float(loss))
    jax.block_until_ready(mlp)
    fit_time = time.perf_counter() - start

    coefs = [np.asarray(layer.weight).T.copy() for layer in mlp.layers]
    intercepts = [np.asarray(layer.bias).copy() for layer in mlp.layers]
    return coefs, intercepts, epochs_run, fit_time


PEERS = {"torchdiffeq": fit_torchdiffeq, "diffrax": fit_diffrax}
PEERS_EPOCHS = {"torchdiffeq": TORCHDIFFEQ_EPOCHS, "diffrax": DIFFRAX_EPOCHS}
